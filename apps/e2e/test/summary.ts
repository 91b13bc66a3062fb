/** Prints one readable line per step of a scenario, so CI output tells the story. */
export function summary(scenario: string): (line: string) => void {
  return (line) => {
    process.stdout.write(`[e2e: ${scenario}] ${line}\n`);
  };
}
