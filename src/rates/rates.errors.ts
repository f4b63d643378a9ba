import { BusinessRuleError } from '../common/errors/app-error';
import type { Verdict } from './outlier-detector';

export class RateOutlierError extends BusinessRuleError {
  constructor(rate: number, v: Verdict, percentLimit: number) {
    const b = v.baseline;
    super('RATE_OUTLIER', `The rate ${rate.toFixed(2)} is too far from the market rate to be accepted.`, [
      { field: 'rate', message: v.reason ?? 'outlier', value: rate },
      {
        field: 'baseline_median',
        message: `median over the contributors of the last ${b.windowHours}h of accepted samples`,
        value: b.median,
      },
      { field: 'baseline_mad', message: 'median absolute deviation over those contributors', value: b.mad },
      { field: 'baseline_samples', message: 'samples in the baseline window', value: b.count },
      {
        field: 'baseline_contributors',
        message: 'contributors behind the baseline (each account once, yours left out)',
        value: b.contributors,
      },
      { field: 'deviation_percent', message: `allowed up to ${percentLimit}%`, value: v.deviationPercent },
    ]);
  }
}
