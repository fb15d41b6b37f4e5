/**
 * The projected knee of one dedicated gateway core: how many real-time servers it keeps busy. Each server asks for
 * `answersPerServer` answers a second, each costing the gateway `cpuPerAnswerS` of CPU, plus `pollingPerServerS` of
 * CPU a second to keep that server's load reports and health fresh (0 where the measured CPU per answer already
 * includes the polling, as a loaded run's does). A projection from measured CPU, not a measured knee.
 */
export const projectedKnee = (options: {
  readonly answersPerServer: number
  readonly cpuPerAnswerS: number
  readonly pollingPerServerS?: number
}): number => 1 / (options.answersPerServer * options.cpuPerAnswerS + (options.pollingPerServerS ?? 0))
