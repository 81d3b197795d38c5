// Replaces eval and the Function constructor with throwing stubs before any evaluator code loads,
// so a suite that passes here proves the evaluator never generates code (strict CSP, edge runtimes).
const refuse = (what: string) => () => {
  throw new EvalError(`${what} is forbidden in this suite`);
};

globalThis.eval = refuse('eval') as typeof eval;
globalThis.Function = new Proxy(Function, {
  apply: refuse('Function()'),
  construct: refuse('new Function()'),
});
