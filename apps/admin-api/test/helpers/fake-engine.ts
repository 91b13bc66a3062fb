import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A small Docker Engine API on a unix socket, speaking only the endpoints admin-api uses,
 * for the cases a real engine cannot produce on demand (an error line mid-stream, a
 * container list that fails, an engine that goes away mid-refresh).
 */

export interface FakeImage {
  id: string;
  repoDigests: string[];
}

export interface FakeContainer {
  id: string;
  name: string;
  /** Config.Image: the reference it was created from. */
  configImage: string;
  /** Image: the id it runs. */
  imageId: string;
  running: boolean;
  /**
   * The State `GET /containers/json` shows instead of the engine's own, for a listing that lags
   * behind (a restart policy started the container right after it was listed).
   */
  listedState?: string;
}

/** How a pull of one reference behaves. Default: success, the reference gets a new image. */
export interface PullScript {
  /** Answer with this HTTP status and `{ message }` instead of streaming. */
  status?: number;
  message?: string;
  /** Extra progress lines before the end. */
  lines?: object[];
  /** An error line after the progress (the engine's way of failing mid-pull). */
  errorLine?: string;
  /** Stream forever (never end): for timeouts. */
  hang?: boolean;
  /** Cut the connection after the progress lines (engine restarted mid-pull). */
  cut?: boolean;
  /** Do not record the image as present although the stream says it was pulled. */
  noImage?: boolean;
  delayMs?: number;
  /** Called when the pull starts (e.g. to crash the engine). */
  onStart?: () => void;
  /**
   * Hold the pull open after its progress lines until this settles, then end as scripted
   * (see `holdPull`): what else a refresh does meanwhile can be observed.
   */
  until?: Promise<unknown>;
  /** The image id the pull results in (default: a new random one). */
  imageId?: string;
}

export interface EngineRequest {
  method: string;
  path: string;
  version: string | undefined;
  query: Record<string, string>;
  registryAuth: string | undefined;
  at: number;
}

export interface FakeEngine {
  readonly socketPath: string;
  readonly images: Map<string, FakeImage>;
  readonly containers: Map<string, FakeContainer>;
  readonly pulls: Map<string, PullScript>;
  readonly requests: EngineRequest[];
  /** Order of pull ends (and held pulls), container stops and removals, for ordering assertions. */
  readonly events: string[];
  apiVersion: string;
  minApiVersion: string;
  /** Make `GET /containers/json` answer with this status. */
  failContainerList: number | undefined;
  /** Container ids whose inspect answers 500. */
  readonly failInspects: Set<string>;
  /**
   * Digests the registry behind the engine holds, with the image id each pulls as: a pull of
   * `<repo>@<digest>` not listed here answers 404 (manifest unknown).
   */
  readonly registryDigests: Map<string, string>;
  /** Concurrent pulls, container inspects and stops right now, and the most seen. */
  readonly stats: {
    activePulls: number;
    maxActivePulls: number;
    activeInspects: number;
    maxActiveInspects: number;
    activeStops: number;
    maxActiveStops: number;
  };
  /** How long a container inspect and a stop of a running container take. */
  inspectDelayMs: number;
  stopDelayMs: number;
  addContainer(name: string, configImage: string, imageId?: string): FakeContainer;
  /** Stop answering and cut every open connection (the engine went away). */
  crash(): void;
  close(): Promise<void>;
}

export const newImageId = (): string => `sha256:${randomBytes(32).toString('hex')}`;

/** A pull script held open until `release()`; the rest of the script says how it then ends. */
export function holdPull(script: Omit<PullScript, 'until'> = {}): {
  script: PullScript;
  release: () => void;
} {
  let release = () => {};
  const until = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { script: { ...script, until }, release };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export async function startFakeEngine(): Promise<FakeEngine> {
  const dir = await mkdtemp(join(tmpdir(), 'fake-engine-'));
  const socketPath = join(dir, 'docker.sock');
  const sockets = new Set<Socket>();
  const images = new Map<string, FakeImage>();
  const containers = new Map<string, FakeContainer>();
  const pulls = new Map<string, PullScript>();
  const requests: EngineRequest[] = [];
  const events: string[] = [];
  const stats = {
    activePulls: 0,
    maxActivePulls: 0,
    activeInspects: 0,
    maxActiveInspects: 0,
    activeStops: 0,
    maxActiveStops: 0,
  };
  const registryDigests = new Map<string, string>();
  let crashed = false;

  const engine: FakeEngine = {
    socketPath,
    images,
    containers,
    pulls,
    requests,
    events,
    stats,
    apiVersion: '1.41',
    minApiVersion: '1.12',
    failContainerList: undefined,
    failInspects: new Set(),
    registryDigests,
    inspectDelayMs: 0,
    stopDelayMs: 0,
    addContainer(name, configImage, imageId = newImageId()) {
      const container = {
        id: randomBytes(32).toString('hex'),
        name,
        configImage,
        imageId,
        running: true,
      };
      containers.set(container.id, container);
      return container;
    },
    crash() {
      crashed = true;
      server.close();
      for (const socket of sockets) socket.destroy();
    },
    async close() {
      if (!crashed) engine.crash();
      await rm(dir, { recursive: true, force: true });
    },
  };

  const findContainer = (ref: string): FakeContainer | undefined =>
    containers.get(ref) ??
    [...containers.values()].find((c) => c.name === ref || c.id.startsWith(ref));

  async function pull(reference: string, res: ServerResponse): Promise<void> {
    const script = pulls.get(reference) ?? {};
    const at = reference.indexOf('@');
    if (at !== -1 && script.status === undefined && !registryDigests.has(reference.slice(at + 1))) {
      json(res, 404, { message: `manifest for ${reference} not found: manifest unknown` });
      return;
    }
    script.onStart?.();
    if (crashed) return;
    stats.activePulls += 1;
    stats.maxActivePulls = Math.max(stats.maxActivePulls, stats.activePulls);
    try {
      if (script.delayMs) await new Promise((r) => setTimeout(r, script.delayMs));
      if (script.status !== undefined) {
        json(res, script.status, { message: script.message ?? 'pull refused' });
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      const write = (line: object) => res.write(`${JSON.stringify(line)}\r\n`);
      const tag = reference.slice(reference.lastIndexOf(':') + 1);
      write({ status: `Pulling from ${reference.slice(0, reference.lastIndexOf(':'))}`, id: tag });
      const layers = ['aaaaaaaaaaaa', 'bbbbbbbbbbbb'];
      for (const id of layers) write({ status: 'Pulling fs layer', progressDetail: {}, id });
      for (const id of layers) {
        write({ status: 'Downloading', progressDetail: { current: 512, total: 1024 }, id });
        write({ status: 'Downloading', progressDetail: { current: 1024, total: 1024 }, id });
        write({ status: 'Download complete', progressDetail: {}, id });
        write({ status: 'Pull complete', progressDetail: {}, id });
      }
      for (const line of script.lines ?? []) write(line);
      if (script.until !== undefined) {
        events.push(`holding ${reference}`);
        await script.until;
      }
      if (script.cut) {
        res.socket?.destroy();
        return;
      }
      if (script.hang) {
        const timer = setInterval(() => write({ status: 'Waiting', id: 'cccccccccccc' }), 50);
        res.on('close', () => clearInterval(timer));
        return;
      }
      if (script.errorLine !== undefined) {
        write({ errorDetail: { message: script.errorLine }, error: script.errorLine });
        res.end();
        return;
      }
      const byDigest = at === -1 ? undefined : reference.slice(at + 1);
      const id =
        script.imageId ?? (byDigest === undefined ? newImageId() : registryDigests.get(byDigest)!);
      const digest = byDigest ?? `sha256:${randomBytes(32).toString('hex')}`;
      const repository =
        at === -1 ? reference.slice(0, reference.lastIndexOf(':')) : reference.slice(0, at);
      write({ status: `Digest: ${digest}` });
      write({ status: `Status: Downloaded newer image for ${reference}` });
      if (!script.noImage) {
        images.set(reference, { id, repoDigests: [`${repository}@${digest}`] });
      }
      events.push(`pulled ${reference}`);
      res.end();
    } finally {
      stats.activePulls -= 1;
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://engine');
    const versionMatch = /^\/v(\d+\.\d+)(\/.*)$/.exec(url.pathname);
    const path = versionMatch ? (versionMatch[2] as string) : url.pathname;
    const auth = req.headers['x-registry-auth'];
    requests.push({
      method: req.method ?? 'GET',
      path,
      version: versionMatch?.[1],
      query: Object.fromEntries(url.searchParams),
      registryAuth: typeof auth === 'string' ? auth : undefined,
      at: Date.now(),
    });
    for await (const _ of req) {
      // drain request bodies
    }
    if (req.method === 'GET' && path === '/_ping') {
      res.writeHead(200, { 'content-type': 'text/plain', 'api-version': engine.apiVersion });
      res.end('OK');
      return;
    }
    if (req.method === 'GET' && path === '/version') {
      json(res, 200, {
        ApiVersion: engine.apiVersion,
        MinAPIVersion: engine.minApiVersion,
        Version: 'fake',
      });
      return;
    }
    if (req.method === 'POST' && path === '/images/create') {
      const fromImage = url.searchParams.get('fromImage') ?? '';
      const tag = url.searchParams.get('tag');
      await pull(tag ? `${fromImage}:${tag}` : fromImage, res);
      return;
    }
    const tagMatch = /^\/images\/(.+)\/tag$/.exec(path);
    if (req.method === 'POST' && tagMatch) {
      const name = decodeURIComponent(tagMatch[1] as string);
      const image = images.get(name);
      if (!image) return json(res, 404, { message: `No such image: ${name}` });
      const target = `${url.searchParams.get('repo')}:${url.searchParams.get('tag') ?? 'latest'}`;
      images.set(target, image);
      events.push(`tagged ${target}`);
      res.writeHead(201);
      res.end();
      return;
    }
    const imageMatch = /^\/images\/(.+)\/json$/.exec(path);
    if (req.method === 'GET' && imageMatch) {
      const name = decodeURIComponent(imageMatch[1] as string);
      const image = images.get(name) ?? [...images.values()].find((i) => i.id === name);
      if (!image) return json(res, 404, { message: `No such image: ${name}` });
      return json(res, 200, { Id: image.id, RepoTags: [name], RepoDigests: image.repoDigests });
    }
    if (req.method === 'GET' && path === '/containers/json') {
      if (engine.failContainerList !== undefined) {
        return json(res, engine.failContainerList, { message: 'container list failed' });
      }
      const filters = JSON.parse(url.searchParams.get('filters') ?? '{}') as { name?: string[] };
      const all = url.searchParams.get('all') === 'true';
      const list = [...containers.values()]
        .filter((c) => all || c.running)
        .filter((c) =>
          (filters.name ?? []).every((pattern) => new RegExp(pattern).test(`/${c.name}`)),
        )
        .map((c) => ({
          Id: c.id,
          Names: [`/${c.name}`],
          // As the engine does: the configured reference while it still resolves to the
          // container's image, else the image id (moby daemon/list.go, refreshImage).
          Image: images.get(c.configImage)?.id === c.imageId ? c.configImage : c.imageId,
          ImageID: c.imageId,
          State: c.listedState ?? (c.running ? 'running' : 'exited'),
        }));
      return json(res, 200, list);
    }
    const containerMatch = /^\/containers\/([^/]+)(\/json|\/stop)?$/.exec(path);
    if (containerMatch) {
      const container = findContainer(containerMatch[1] as string);
      if (!container) return json(res, 404, { message: 'No such container' });
      if (req.method === 'GET' && containerMatch[2] === '/json') {
        stats.activeInspects += 1;
        stats.maxActiveInspects = Math.max(stats.maxActiveInspects, stats.activeInspects);
        try {
          if (engine.inspectDelayMs > 0) {
            await new Promise((r) => setTimeout(r, engine.inspectDelayMs));
          }
        } finally {
          stats.activeInspects -= 1;
        }
        if (engine.failInspects.has(container.id)) {
          return json(res, 500, { message: 'inspect failed' });
        }
        return json(res, 200, {
          Id: container.id,
          Name: `/${container.name}`,
          Image: container.imageId,
          Config: { Image: container.configImage },
          State: {
            Running: container.running,
            Status: container.running ? 'running' : 'exited',
          },
        });
      }
      if (req.method === 'POST' && containerMatch[2] === '/stop') {
        if (!container.running) {
          res.writeHead(304);
          res.end();
          return;
        }
        stats.activeStops += 1;
        stats.maxActiveStops = Math.max(stats.maxActiveStops, stats.activeStops);
        try {
          if (engine.stopDelayMs > 0) await new Promise((r) => setTimeout(r, engine.stopDelayMs));
        } finally {
          stats.activeStops -= 1;
        }
        container.running = false;
        events.push(`stopped ${container.name} t=${url.searchParams.get('t')}`);
        res.writeHead(204);
        res.end();
        return;
      }
      if (req.method === 'DELETE' && containerMatch[2] === undefined) {
        if (container.running && url.searchParams.get('force') !== 'true') {
          return json(res, 409, {
            message: `You cannot remove a running container ${container.id}. Stop the container before attempting removal or force remove`,
          });
        }
        containers.delete(container.id);
        events.push(`removed ${container.name}`);
        res.writeHead(204);
        res.end();
        return;
      }
    }
    json(res, 404, { message: `page not found: ${req.method} ${path}` });
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) json(res, 500, { message: String(error) });
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  return engine;
}
