import { describe, expect, it } from 'vitest';
import { parseWaveSizes, planWaves, type WaveSize } from '../../src/rollouts/waves.js';

const sizes = (text: string): WaveSize[] => {
  const parsed = parseWaveSizes(text);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.sizes;
};
const hosts = (n: number) => Array.from({ length: n }, (_, i) => `h${i + 1}`);

describe('parseWaveSizes', () => {
  it.each([
    ['100%', [{ kind: 'percent', percent: 100 }]],
    [
      '1, 50%,100%',
      [
        { kind: 'count', count: 1 },
        { kind: 'percent', percent: 50 },
        { kind: 'percent', percent: 100 },
      ],
    ],
    ['3', [{ kind: 'count', count: 3 }]],
  ])('%j', (text, expected) => {
    expect(parseWaveSizes(text)).toEqual({ ok: true, sizes: expected });
  });

  it.each([
    ['0', /0 hosts adds no host/],
    ['0%', /0% adds no host/],
    ['150%', /more than 100%/],
    ['half', /not a host count or a percentage/],
    ['1,,2', /not a host count/],
    ['-1', /not a host count/],
    ['1.5', /not a host count/],
    ['50 %', /not a host count/],
    ['x50%', /^"x50%" is not a host count or a percentage \(e\.g\. 1,50%,100%\)$/],
    ['50%x', /^"50%x" is not a host count or a percentage/],
  ])('%j is refused', (text, problem) => {
    const parsed = parseWaveSizes(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toMatch(problem);
  });
});

describe('planWaves', () => {
  it.each([
    ['100%', 3, [['h1', 'h2', 'h3']]],
    ['1,50%,100%', 4, [['h1'], ['h2'], ['h3', 'h4']]],
    ['1,50%,100%', 3, [['h1'], ['h2'], ['h3']]],
    // Percentages round up.
    ['34%,100%', 3, [['h1', 'h2'], ['h3']]],
    ['1,100%', 1, undefined],
    ['1', 1, [['h1']]],
    // A count above the hosts means all of them.
    ['1,10', 3, [['h1'], ['h2', 'h3']]],
    // A last size below every host gets a final wave with the rest.
    ['1,50%', 4, [['h1'], ['h2'], ['h3', 'h4']]],
    [
      '2',
      5,
      [
        ['h1', 'h2'],
        ['h3', 'h4', 'h5'],
      ],
    ],
  ])('%s over %i hosts', (text, count, waves) => {
    const planned = planWaves(hosts(count), sizes(text));
    if (waves === undefined) {
      expect(planned.ok).toBe(false);
      return;
    }
    expect(planned).toEqual({ ok: true, waves });
  });

  it.each([
    ['1,1', 3, /wave 2 \(1 = 1 of 3 hosts\) adds no host to the 1 before it/],
    ['50%,60%', 3, /wave 2 \(60% = 2 of 3 hosts\) adds no host/],
    ['100%,100%', 2, /wave 2/],
    ['3,5', 3, /wave 2 \(5 = 3 of 3 hosts\)/],
  ])('%s over %i hosts does not grow', (text, count, problem) => {
    const planned = planWaves(hosts(count), sizes(text));
    expect(planned.ok).toBe(false);
    if (!planned.ok) expect(planned.problem).toMatch(problem);
  });

  it('keeps the configured host order', () => {
    expect(planWaves(['c', 'a', 'b'], sizes('1,100%'))).toEqual({
      ok: true,
      waves: [['c'], ['a', 'b']],
    });
  });
});
