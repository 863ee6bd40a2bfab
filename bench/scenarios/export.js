// placeholder
export async function scenarioExport() {
  throw new Error('not yet');
}
