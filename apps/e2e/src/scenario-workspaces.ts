import { DEFAULT_REGISTRY_PREFIX } from '@molecule/registry';
import type Docker from 'dockerode';
import {
  pullImage,
  resetEngine,
  type SetupCredentials,
  startWorkspace,
  tagImage,
} from './workspaces.js';

/** The containers every scenario starts, and which of them a langgraph refresh must remove. */
export const SCENARIO_CONTAINERS = {
  langgraph: 'ws-e2e-langgraph',
  legacyLanggraph: 'ws-e2e-legacy-langgraph',
  codex: 'ws-e2e-codex',
  lookalike: 'ws-e2e-claude-code-default',
  notAWorkspace: 'e2e-not-a-workspace',
} as const;

/**
 * Empties the engine, then starts the scenario's containers from images pulled under
 * `prefix`: a langgraph and a codex workspace, a langgraph workspace still on the
 * pre-switch default-registry reference (DEFAULT_REGISTRY_PREFIX), a workspace whose image name only starts
 * like a runtime's (`workspace-template-claude-code-default`), and a container that is not a
 * workspace at all.
 */
export async function provisionWorkspaces(
  docker: Docker,
  prefix: string,
  auth: SetupCredentials,
): Promise<void> {
  const ref = (runtime: string) => `${prefix}/workspace-template-${runtime}:latest`;
  const legacyRef = `${DEFAULT_REGISTRY_PREFIX}/workspace-template-langgraph:latest`;
  const lookalikeRef = `${prefix}/workspace-template-claude-code-default:latest`;
  await resetEngine(docker);
  await pullImage(docker, ref('langgraph'), auth);
  await pullImage(docker, ref('codex'), auth);
  await tagImage(docker, ref('langgraph'), legacyRef);
  await tagImage(docker, ref('codex'), lookalikeRef);
  await startWorkspace(docker, { name: SCENARIO_CONTAINERS.langgraph, image: ref('langgraph') });
  await startWorkspace(docker, { name: SCENARIO_CONTAINERS.legacyLanggraph, image: legacyRef });
  await startWorkspace(docker, { name: SCENARIO_CONTAINERS.codex, image: ref('codex') });
  await startWorkspace(docker, { name: SCENARIO_CONTAINERS.lookalike, image: lookalikeRef });
  await startWorkspace(docker, {
    name: SCENARIO_CONTAINERS.notAWorkspace,
    image: ref('langgraph'),
  });
}
