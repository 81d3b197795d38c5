/**
 * The part of jstat 1.9.6 (`module.exports = jStat`, no types of its own) that src/stats/distributions.ts
 * uses. Nothing else may import 'jstat': the distributions file is the one place it is wrapped.
 */
declare module 'jstat' {
  interface JStat {
    normal: {
      /** Φ((x − mean) / std). */
      cdf(x: number, mean: number, std: number): number;
      /** The p-quantile of N(mean, std²). */
      inv(p: number, mean: number, std: number): number;
    };
    studentt: {
      /** P(T ≤ x) for Student's t with `dof` degrees of freedom. */
      cdf(x: number, dof: number): number;
      /** The p-quantile of Student's t with `dof` degrees of freedom. */
      inv(p: number, dof: number): number;
    };
    noncentralt: {
      /** P(T ≤ x) for the noncentral t with `dof` degrees of freedom and noncentrality `ncp`. */
      cdf(x: number, dof: number, ncp: number): number;
    };
    /** The regularised incomplete beta function I_x(a, b); `false` for x outside [0, 1]. */
    ibeta(x: number, a: number, b: number): number | false;
  }
  const jStat: JStat;
  export default jStat;
}
