import type { FakeRegistry } from '@molecule/fake-registry';
import { type BuiltImage, buildImage, pushImage } from '@molecule/real-parts';
import type { Runtime } from '@molecule/registry';

/**
 * Publishes runnable workspace template images under a prefix, into the fake registry
 * (in process) or a real distribution registry (over its HTTP API, as `docker push` does).
 */
export interface ImagePublisher {
  /** `<host>/<path>`: the value MOLECULE_IMAGE_REGISTRY is set to. */
  readonly prefix: string;
  readonly host: string;
  /** Builds a new image (salt makes the digest new) and moves `latest` of the runtime to it. */
  publish(runtime: Runtime, salt: string): Promise<string>;
}

export function templateRepository(prefixPath: string, runtime: string): string {
  return `${prefixPath}/workspace-template-${runtime}`;
}

function putIntoFake(registry: FakeRegistry, repository: string, image: BuiltImage): string {
  for (const blob of image.blobs.values()) registry.putBlob(blob);
  return registry.putManifest(repository, 'latest', image.manifest);
}

export function fakeRegistryPublisher(registry: FakeRegistry, prefixPath: string): ImagePublisher {
  return {
    prefix: `${registry.host}/${prefixPath}`,
    host: registry.host,
    async publish(runtime, salt) {
      const image = await buildImage({ salt: `${runtime}-${salt}` });
      return putIntoFake(registry, templateRepository(prefixPath, runtime), image);
    },
  };
}

export function distributionPublisher(
  distribution: { url: string; host: string },
  prefixPath: string,
  credentials?: { username: string; password: string },
): ImagePublisher {
  return {
    prefix: `${distribution.host}/${prefixPath}`,
    host: distribution.host,
    async publish(runtime, salt) {
      const image = await buildImage({ salt: `${runtime}-${salt}` });
      return pushImage({
        registryUrl: distribution.url,
        repository: templateRepository(prefixPath, runtime),
        tag: 'latest',
        image,
        ...(credentials ? { credentials } : {}),
      });
    },
  };
}
