// The part of autocannon's programmatic API the load benchmark uses (it ships no types).
declare module 'autocannon' {
  interface Histogram {
    average: number;
    p50: number;
    p99: number;
    max: number;
  }
  interface Options {
    url: string;
    connections?: number;
    duration?: number;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
  }
  interface Result {
    requests: Histogram & { total: number };
    latency: Histogram;
    errors: number;
    timeouts: number;
    non2xx: number;
    '2xx': number;
  }
  /** A run: awaited for its result, and an emitter of each response as it arrives. */
  interface Instance extends PromiseLike<Result> {
    on(
      event: 'response',
      /** `responseTime` in milliseconds, to the nanosecond (the result's histograms keep whole ms). */
      listener: (client: unknown, statusCode: number, bytes: number, responseTime: number) => void,
    ): this;
  }
  function autocannon(options: Options): Instance;
  export default autocannon;
}
