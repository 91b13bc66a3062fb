import type { z } from 'zod';

/** The first schema issue as a 400 message: `not <what> at <path>: <message>`. */
export function describeIssue(what: string, error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return `not ${what}`;
  const path = issue.path.length === 0 ? '' : ` at ${issue.path.join('.')}`;
  return `not ${what}${path}: ${issue.message}`;
}
