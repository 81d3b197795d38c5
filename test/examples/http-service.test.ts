import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('examples/http-service.ts', () => {
  const output = execFileSync(process.execPath, ['--import', 'tsx', 'examples/http-service.ts'], {
    encoding: 'utf8',
  });

  it('answers three requests', () => {
    expect(output.match(/^response: .*$/gm)).toEqual([
      'response: cart for alice: classic checkout, header #2980b9',
      'response: cart for erin: new checkout, header #2980b9',
      'response: cart for bob: classic checkout, header #2980b9',
    ]);
  });

  it('puts every variant on each request span, as the console exporter prints it', () => {
    // The request spans (GET /cart) never evaluate a flag themselves: the variants reach them
    // from the render-cart child span through withFlagVariants.
    const requestSpans = [
      ...output.matchAll(/name: 'GET \/cart',[\s\S]*?attributes: \{([^}]*)\}[\s\S]*?events: \[\]/g),
    ].map((m) => (m[1] ?? '').replace(/\s+/g, ' ').trim());
    expect(requestSpans).toEqual([
      "'feature_flag.variant.new-checkout': 'off', 'feature_flag.variant.header-color': 'blue'",
      "'feature_flag.variant.new-checkout': 'on', 'feature_flag.variant.header-color': 'blue'",
      "'feature_flag.variant.new-checkout': 'off', 'feature_flag.variant.header-color': 'blue'",
    ]);
    expect(output.match(/name: 'feature_flag\.evaluation'/g)).toHaveLength(6);
  });
});
