/**
 * The x range of a bar chart that shows every bar whole. uPlot's time scale ends at the first and
 * last points, so a bar drawn to the right of its point (`align: 1`, a bucket from its start) fell
 * wholly outside at the right edge — the current day's bar never showed — and a bar centred on its
 * point (`align: 0`) was cut in half at both ends. The step is the distance between points, or
 * `fallbackStep` when there is a single point.
 */
export function barExtent(
  xs: ArrayLike<number>,
  min: number,
  max: number,
  align: 0 | 1,
  fallbackStep: number,
): [number, number] {
  const step = xs.length > 1 ? xs[1]! - xs[0]! : fallbackStep;
  return align === 1 ? [min, max + step] : [min - step / 2, max + step / 2];
}
