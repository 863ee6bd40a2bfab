// placeholder
export async function scenarioOverhead() {
  throw new Error('not yet');
}
