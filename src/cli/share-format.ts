/** A share as a percentage for people: `10.12 %`; a share under 0.01 % but not zero: `< 0.01 %`. */
export function percent(share: number, digits = 2): string {
  if (share > 0 && share < 10 ** -(digits + 2)) return `< ${(10 ** -digits).toFixed(digits)} %`;
  return `${(share * 100).toFixed(digits)} %`;
}

/** A whole number with thousands separators: `10,000`. */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** A p-value for people: `0.52`, `0.0031`, `2.1e-9`. */
export function pValueText(p: number): string {
  if (p >= 0.01) return p.toFixed(2);
  if (p >= 0.0001) return p.toPrecision(2);
  return p === 0 ? '0' : p.toExponential(1);
}
