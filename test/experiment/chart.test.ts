import { describe, expect, it } from 'vitest';
import { analyzeExperiment } from '../../src/experiment/analyze.js';
import { experimentChart } from '../../src/experiment/chart.js';
import type { ExperimentData, MetricData } from '../../src/experiment/types.js';

/** Throws unless every tag is closed in order (a well-formedness check without an XML parser). */
function checkWellFormed(svg: string): void {
  const stack: string[] = [];
  for (const match of svg.matchAll(/<(\/?)([a-zA-Z][\w-]*)([^>]*?)(\/?)>/g)) {
    const [, closing, name, attrs, selfClosing] = match;
    if (/[<&](?!amp;|lt;|gt;|quot;|#39;)/.test(attrs ?? ''))
      throw new Error(`raw markup in ${name}`);
    if (selfClosing === '/') continue;
    if (closing === '/') {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
    } else stack.push(name as string);
  }
  if (stack.length > 0) throw new Error(`unclosed ${stack.join(', ')}`);
  // text between tags holds no raw markup
  for (const text of svg.split(/<[^>]*>/))
    if (/[<>]|&(?!amp;|lt;|gt;|quot;|#39;)/.test(text)) throw new Error(`raw text ${text}`);
}

const metric = (n: number, on: number, other: number, name = 'purchase'): MetricData => ({
  metric: name,
  kind: 'conversion',
  variants: [
    { variant: 'off', users: n, conversions: Math.round(n * 0.1) },
    { variant: 'on', users: n, conversions: on },
    { variant: '<b>&"x"', users: n, conversions: other },
  ],
});

function data(days: number): ExperimentData {
  const series = Array.from({ length: days }, (_, d) => {
    const n = 1_000 * (d + 1);
    return {
      time: new Date(Date.UTC(2026, 2, 1 + d)).toISOString(),
      metrics: [metric(n, Math.round(n * 0.12), Math.round(n * 0.1))],
    };
  });
  return {
    flag: 'check<out>',
    control: 'off',
    metrics: series.at(-1)?.metrics ?? [],
    series,
  };
}

describe('experimentChart', () => {
  it('draws one panel per variant: the interval as a band, the estimate, the zero line', () => {
    const analysis = analyzeExperiment(data(14));
    const svg = experimentChart(analysis);
    checkWellFormed(svg);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<polygon /g)).toHaveLength(2);
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg.match(/class="zero"/g)?.length).toBe(2);
    expect(svg).toContain('anytime-valid 95 % interval (τ = 5.0 %)');
    expect(svg).toContain('>on vs control</text>');
    // the last interval, written beside each panel
    const last = analysis.comparisons[0]?.sequential?.relative;
    expect(svg).toContain(`+${((last?.estimate ?? 0) * 100).toFixed(1)} %`);
    expect(svg).toContain('>12d</text>');
  });

  it('escapes every text: the flag, the metric and the variant names', () => {
    const svg = experimentChart(analyzeExperiment(data(5)), { title: 'A & <B>' });
    checkWellFormed(svg);
    expect(svg).not.toContain('<b>');
    expect(svg).toContain('&lt;b&gt;&amp;&quot;x&quot; vs control');
    expect(svg).toContain('>A &amp; &lt;B&gt;</text>');
    expect(experimentChart(analyzeExperiment(data(3)))).toContain('check&lt;out&gt;: purchase');
  });

  it('shows the fixed-horizon interval when the analysis decides on it', () => {
    const svg = experimentChart(analyzeExperiment(data(5), { sequential: false }));
    expect(svg).toContain('fixed-horizon 95 % interval');
  });

  it('draws the metric asked for, and stays an SVG without a series', () => {
    const withTwo = data(4);
    const series = withTwo.series?.map((p) => ({
      ...p,
      metrics: [...p.metrics, metric(2_000, 300, 210, 'signup')],
    }));
    const svg = experimentChart(
      analyzeExperiment({
        ...withTwo,
        metrics: series?.at(-1)?.metrics ?? [],
        ...(series ? { series } : {}),
      }),
      { metric: 'signup' },
    );
    expect(svg).toContain('check&lt;out&gt;: signup, relative lift over time');
    const empty = experimentChart(analyzeExperiment({ ...data(3), series: [] }));
    checkWellFormed(empty);
    expect(empty.match(/no lift to show/g)).toHaveLength(2);
  });
});
