/**
 * Semantic versions as flagd's `sem_ver` reads them: SemVer 2.0.0, with a leading `v`/`V` allowed,
 * `1` and `1.2` read as `1.0.0` and `1.2.0`, numbers read through their decimal form, and build
 * metadata ignored. Numeric identifiers are compared as digit strings, so no size is too large.
 * @internal
 */
export interface SemVer {
  readonly major: string;
  readonly minor: string;
  readonly patch: string;
  readonly prerelease: readonly string[];
}

const NO_PRERELEASE: readonly string[] = Object.freeze([]);
const NUM = '0|[1-9]\\d*';
const PRE_ID = `(?:${NUM}|\\d*[A-Za-z-][0-9A-Za-z-]*)`;
const BUILD_ID = '[0-9A-Za-z-]+';
const SEMVER = new RegExp(
  `^[vV]?(${NUM})(?:\\.(${NUM})(?:\\.(${NUM})` +
    `(?:-(${PRE_ID}(?:\\.${PRE_ID})*))?(?:\\+${BUILD_ID}(?:\\.${BUILD_ID})*)?)?)?$`,
);

/** Parses a version; `null` when it is not one. @internal */
export function parseSemVer(value: unknown): SemVer | null {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number' && Number.isFinite(value)) text = String(value);
  else return null;
  const match = SEMVER.exec(text);
  if (match === null) return null;
  return {
    major: match[1] as string,
    minor: match[2] ?? '0',
    patch: match[3] ?? '0',
    prerelease: match[4] === undefined ? NO_PRERELEASE : match[4].split('.'),
  };
}

const isNumeric = (id: string): boolean => /^\d+$/.test(id);

function compareDigits(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareIdentifiers(a: string, b: string): number {
  const an = isNumeric(a);
  const bn = isNumeric(b);
  if (an && bn) return compareDigits(a, b);
  if (an !== bn) return an ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** SemVer precedence: −1, 0 or 1. @internal */
export function compareSemVer(a: SemVer, b: SemVer): number {
  const core =
    compareDigits(a.major, b.major) ||
    compareDigits(a.minor, b.minor) ||
    compareDigits(a.patch, b.patch);
  if (core !== 0) return core;
  const ap = a.prerelease;
  const bp = b.prerelease;
  if (ap.length === 0 || bp.length === 0)
    return ap.length === bp.length ? 0 : ap.length === 0 ? 1 : -1;
  for (let i = 0; i < Math.min(ap.length, bp.length); i++) {
    const order = compareIdentifiers(ap[i] as string, bp[i] as string);
    if (order !== 0) return order;
  }
  return ap.length === bp.length ? 0 : ap.length < bp.length ? -1 : 1;
}

/** flagd's `sem_ver` operators; `^` is "same major", `~` "same major and minor". @internal */
export const SEMVER_OPERATORS: Readonly<Record<string, (a: SemVer, b: SemVer) => boolean>> = {
  '=': (a, b) => compareSemVer(a, b) === 0,
  '!=': (a, b) => compareSemVer(a, b) !== 0,
  '<': (a, b) => compareSemVer(a, b) < 0,
  '<=': (a, b) => compareSemVer(a, b) <= 0,
  '>': (a, b) => compareSemVer(a, b) > 0,
  '>=': (a, b) => compareSemVer(a, b) >= 0,
  '^': (a, b) => a.major === b.major,
  '~': (a, b) => a.major === b.major && a.minor === b.minor,
};
