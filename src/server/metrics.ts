import { status } from '@grpc/grpc-js';
import type { Transport } from './subscribers.js';
import type { EvaluationResult } from '../evaluator/index.js';

/** gRPC status names by code (`0` → `OK`). */
const STATUS_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(status)
    .filter(([, code]) => typeof code === 'number')
    .map(([name, code]) => [code, name]),
);

type Labels = Readonly<Record<string, string>>;

/** A label value escaped as the Prometheus text format requires. */
const escape = (value: string) =>
  value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');

const labelText = (labels: Labels) => {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escape(v)}"`);
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
};

interface Family {
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  readonly series: Map<string, number>;
}

/**
 * The server's metrics in the Prometheus text format (`/metrics` on the management port). A few
 * counters and gauges, written out here rather than with a metrics library: the server needs no
 * histograms, and the format is three lines per family.
 * @internal
 */
export class ServerMetrics {
  readonly #families = new Map<string, Family>();

  constructor() {
    this.#family(
      'feature_flag_flagd_impression_total',
      'counter',
      'Flags evaluated by the evaluation API and OFREP, by flag, variant and reason.',
    );
    this.#family(
      'feature_flag_flagd_evaluation_reason_total',
      'counter',
      'Evaluations by reason and error code.',
    );
    this.#family('rampflag_sync_streams', 'gauge', 'Open sync streams, by transport.');
    this.#family(
      'rampflag_configuration_updates_total',
      'counter',
      'Configurations taken from a source, by source.',
    );
    this.#family(
      'rampflag_configuration_rejected_total',
      'counter',
      'Configurations refused (the last good one kept), by source.',
    );
    this.#family(
      'rampflag_configuration_version',
      'gauge',
      'The version of the configuration served; it grows by one per change.',
    );
    this.#family(
      'rampflag_http_requests_total',
      'counter',
      'HTTP requests answered, by listener and status code.',
    );
    this.#family(
      'rampflag_grpc_requests_total',
      'counter',
      'gRPC calls on the evaluation port, by method and the status they ended with.',
    );
  }

  evaluated(key: string, result: EvaluationResult<unknown>): void {
    const reason = result.reason;
    if (result.variant !== undefined)
      this.#add('feature_flag_flagd_impression_total', {
        feature_flag_key: key,
        feature_flag_variant: result.variant,
        feature_flag_reason: reason,
      });
    this.#add('feature_flag_flagd_evaluation_reason_total', {
      feature_flag_reason: reason,
      error_type: result.errorCode ?? '',
    });
  }

  streams(transport: Transport, delta: 1 | -1): void {
    this.#add('rampflag_sync_streams', { transport }, delta);
  }

  configuration(source: string, accepted: boolean, version: number): void {
    const name = accepted
      ? 'rampflag_configuration_updates_total'
      : 'rampflag_configuration_rejected_total';
    this.#add(name, { source });
    this.#set('rampflag_configuration_version', {}, version);
  }

  request(listener: string, status: number): void {
    this.#add('rampflag_http_requests_total', { listener, code: String(status) });
  }

  /** A gRPC call ended: its method and status (`OK`, `NOT_FOUND`, …). */
  grpcCall(method: string, code: number): void {
    this.#add('rampflag_grpc_requests_total', { method, code: STATUS_NAMES[code] ?? String(code) });
  }

  /** Every family in the Prometheus text exposition format (version 0.0.4). */
  render(): string {
    const lines: string[] = [];
    for (const [name, family] of this.#families) {
      lines.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} ${family.type}`);
      for (const [labels, value] of family.series) lines.push(`${name}${labels} ${value}`);
    }
    return `${lines.join('\n')}\n`;
  }

  #family(name: string, type: Family['type'], help: string): void {
    this.#families.set(name, { help, type, series: new Map() });
  }

  #add(name: string, labels: Labels, delta = 1): void {
    const series = (this.#families.get(name) as Family).series;
    const key = labelText(labels);
    series.set(key, (series.get(key) ?? 0) + delta);
  }

  #set(name: string, labels: Labels, value: number): void {
    (this.#families.get(name) as Family).series.set(labelText(labels), value);
  }
}
