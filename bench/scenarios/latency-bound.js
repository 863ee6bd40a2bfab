// placeholder
export async function scenarioLatencyBound() {
  throw new Error('not yet');
}
