/**
 * Soft-binding robustness on a small generated set (the bench section `softbinding` runs 200 pictures and
 * 10,000 unrelated ones): which transformations a signed output survives with PDQ alone (within 31 bits,
 * quality at least 50), what the PDQ of the picture's centre adds for a border crop, what the colour layout
 * adds for flat pictures (the rule /v1/verify applies: `pdq+centre+layout`), and no false match among
 * unrelated pictures.
 */
import { describe, expect, it } from 'vitest';
import { measureRobustness, type RobustnessReport } from '../fixtures/robustness.ts';

describe('soft binding: generated pictures recovered after what platforms do to them', () => {
  let r: RobustnessReport;
  it('measures 40 pictures and 200 unrelated ones', async () => {
    r = await measureRobustness({ pictures: 40, unrelated: 200 });
    expect(r.rates.pdq.overall.of).toBe(40 * 5 + 20); // PNG to JPEG applies to the 20 PNG pictures only
  }, 300_000);

  it('recovers every picture PDQ can recognise after stripping, re-encoding, PNG to JPEG and a brightness step', () => {
    for (const t of ['metadata-stripped', 'jpeg-q60', 'png-to-jpeg', 'brightness-1'] as const) {
      const x = r.rates.pdq.recognisable[t];
      expect(x.recovered, t).toBe(x.of);
    }
    // Halving the size moves PDQ past the threshold on some fine text and noise.
    expect(r.rates.pdq.recognisable['resize-50'].rate).toBeGreaterThanOrEqual(0.75);
  });

  it('misses almost every 5 % border crop with PDQ alone, and recovers them with the PDQ of the centre', () => {
    expect(r.rates.pdq['crop-5'].rate).toBeLessThan(0.2);
    expect(r.rates['pdq+centre'].recognisable['crop-5'].rate).toBeGreaterThanOrEqual(0.95);
    expect(r.rates['pdq+centre'].overallRecognisable.rate).toBeGreaterThanOrEqual(0.95);
  });

  it('recovers flat pictures too where their colour layout agrees: the rule verify applies recovers 9 in 10 of the whole set (95 % on the 200 of the bench)', () => {
    // Smooth pictures (PDQ quality below 50): PDQ alone never matches them.
    expect(r.lowQualityOriginals).toBeGreaterThan(0);
    expect(r.rates['pdq+centre'].overall.rate).toBeLessThan(0.9);
    expect(r.rates['pdq+centre+layout'].overall.rate).toBeGreaterThanOrEqual(0.9);
    expect(r.rates['pdq+centre+layout'].overall.rate).toBeGreaterThan(r.rates['pdq+centre'].overall.rate + 0.1);
    expect(r.rates['pdq+centre+layout']['metadata-stripped'].rate).toBe(1);
  });

  it('never leads a copy to another output, and matches no unrelated picture', () => {
    for (const rule of ['pdq', 'pdq+centre', 'pdq+dct', 'pdq+centre+layout'] as const) expect(r.rates[rule].overall.wrong, rule).toBe(0);
    expect(r.unrelatedStats.matchable).toBeGreaterThan(100);
    expect(r.unrelatedStats.flat).toBeGreaterThan(20);
    expect(r.falseMatches.pdq).toBe(0);
    expect(r.falseMatches['pdq+centre']).toBe(0);
    expect(r.falseMatches['pdq+centre+layout']).toBe(0);
  });
});
