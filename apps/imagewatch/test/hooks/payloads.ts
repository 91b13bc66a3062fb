/**
 * Builders of registry notification bodies, shaped like what distribution 2.8 and GitHub send
 * (trimmed to the fields that matter plus a few of the noise fields real payloads carry).
 */
import { createHmac, randomUUID } from 'node:crypto';

export const DISTRIBUTION_CONTENT_TYPE = 'application/vnd.docker.distribution.events.v1+json';
const MANIFEST_V2 = 'application/vnd.docker.distribution.manifest.v2+json';

export interface PushEventOptions {
  repository: string;
  tag?: string | undefined;
  host: string;
  digest?: string;
  action?: string;
  mediaType?: string;
  id?: string;
}

/** One distribution event (a manifest push by tag unless told otherwise). */
export function distributionEvent(options: PushEventOptions): Record<string, unknown> {
  const digest = options.digest ?? `sha256:${'ab'.repeat(32)}`;
  return {
    id: options.id ?? randomUUID(),
    timestamp: new Date().toISOString(),
    action: options.action ?? 'push',
    target: {
      mediaType: options.mediaType ?? MANIFEST_V2,
      size: 527,
      digest,
      length: 527,
      repository: options.repository,
      url: `http://${options.host}/v2/${options.repository}/manifests/${digest}`,
      ...(options.tag === undefined ? {} : { tag: options.tag }),
    },
    request: {
      id: randomUUID(),
      addr: '127.0.0.1:50000',
      host: options.host,
      method: 'PUT',
      useragent: 'undici',
    },
    actor: { name: 'pusher' },
    source: { addr: 'registry:5000', instanceID: randomUUID() },
  };
}

export function distributionEnvelope(...events: Record<string, unknown>[]): string {
  return JSON.stringify({ events });
}

export interface GitHubPackageOptions {
  event?: 'package' | 'registry_package';
  action?: string;
  owner?: string;
  name?: string;
  tag?: string | null;
  digest?: string;
  packageType?: string;
  packageUrlHost?: string;
}

/** A GitHub `package` (or `registry_package`) webhook body for a GHCR image version. */
export function githubPackageBody(options: GitHubPackageOptions = {}): string {
  const owner = options.owner ?? 'molecule-ai';
  const name = options.name ?? 'workspace-template-langgraph';
  const tag = options.tag === undefined ? 'latest' : options.tag;
  const digest = options.digest ?? `sha256:${'cd'.repeat(32)}`;
  const host = options.packageUrlHost ?? 'ghcr.io';
  const pkg = {
    id: 9056324,
    name,
    namespace: owner,
    description: '',
    ecosystem: 'CONTAINER',
    package_type: options.packageType ?? 'CONTAINER',
    html_url: `https://github.com/${owner}/packages/9056324`,
    owner: { login: owner, id: 1, type: 'Organization' },
    package_version: {
      id: 564296960,
      version: digest,
      name: digest,
      container_metadata: {
        tag: { name: tag ?? '', digest },
        labels: { description: '' },
        manifest: { digest, media_type: 'application/vnd.oci.image.index.v1+json' },
      },
      package_url: `${host}/${owner}/${name}${tag ? `:${tag}` : ''}`,
    },
    registry: {
      name: 'GitHub CONTAINER registry',
      type: 'CONTAINER',
      url: `https://CONTAINER.pkg.github.com/${owner}`,
      vendor: 'GitHub Inc',
    },
  };
  const key = (options.event ?? 'package') === 'package' ? 'package' : 'registry_package';
  return JSON.stringify({
    action: options.action ?? 'published',
    [key]: pkg,
    repository: { full_name: `${owner}/templates` },
    organization: { login: owner },
    sender: { login: 'release-bot' },
  });
}

export interface HarborEventOptions {
  /** Default format `PUSH_ARTIFACT`; CloudEvents format `harbor.artifact.pushed`. */
  type?: string;
  /** `<host>/<project>/<name>:<tag>`, or `null` for none. */
  resourceUrl?: string | null;
  host?: string;
  project?: string;
  name?: string;
  /** The pushed tag; Harbor repeats the digest here for a push by digest. */
  tag?: string;
  digest?: string;
  /** `[]` for events that name no artifact. */
  resources?: readonly Record<string, unknown>[];
}

function harborEventData(options: HarborEventOptions): Record<string, unknown> {
  const project = options.project ?? 'molecule-ai';
  const name = options.name ?? 'workspace-template-langgraph';
  const tag = options.tag ?? 'latest';
  const digest = options.digest ?? `sha256:${'ef'.repeat(32)}`;
  const separator = tag.startsWith('sha256:') ? '@' : ':';
  const resourceUrl =
    options.resourceUrl === undefined
      ? `${options.host ?? 'harbor.example.com'}/${project}/${name}${separator}${tag}`
      : options.resourceUrl;
  return {
    resources: options.resources ?? [
      { digest, tag, ...(resourceUrl === null ? {} : { resource_url: resourceUrl }) },
    ],
    repository: {
      date_created: 1_737_446_600,
      name,
      namespace: project,
      repo_full_name: `${project}/${name}`,
      repo_type: 'private',
    },
  };
}

/** A Harbor webhook in the "Default" payload format (Harbor 2.x, notify type http). */
export function harborWebhookBody(options: HarborEventOptions = {}): string {
  return JSON.stringify({
    type: options.type ?? 'PUSH_ARTIFACT',
    occur_at: 1_737_446_601,
    operator: 'robot$ci',
    event_data: harborEventData(options),
  });
}

/** The same event in Harbor's "CloudEvents" payload format (Harbor 2.8+). */
export function harborCloudEventBody(options: HarborEventOptions = {}): string {
  return JSON.stringify({
    specversion: '1.0',
    requestid: randomUUID(),
    id: randomUUID(),
    source: '/projects/2/webhook/policies/15',
    type: options.type ?? 'harbor.artifact.pushed',
    datacontenttype: 'application/json',
    time: '2025-01-21T08:03:21Z',
    data: harborEventData(options),
    operator: 'robot$ci',
  });
}

/** What GitHub would send as `X-Hub-Signature-256` for `body`. */
export function signGitHubPayload(body: Buffer | string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
