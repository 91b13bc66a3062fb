import type { CheckContext } from './check-context.js';
import { malformed, type SignatureFinding } from './findings.js';
import { MAX_REFERRERS, MAX_SIGNATURE_LAYERS } from './limits.js';
import { OCI_INDEX, OCI_MANIFEST, referrersTag, SIGSTORE_BUNDLE_V03 } from './media-types.js';
import {
  type Descriptor,
  DescriptorSchema,
  firstIssue,
  ImageIndexSchema,
  ImageManifestSchema,
  parseJson,
} from './oci-schemas.js';

/** A bundle layer of a referring manifest, to be fetched and verified. */
export interface BundleLayer {
  readonly descriptor: Descriptor;
  /** e.g. `referrer sha256:aa34… layer 0`. */
  readonly where: string;
}

export interface FoundBundleLayers {
  readonly layers: readonly BundleLayer[];
  /** Malformed referrers indexes or bundle referrers met on the way. */
  readonly findings: readonly SignatureFinding[];
}

const FORMAT = 'sigstore-bundle';

/**
 * The sigstore bundle layers that refer to the image: the referrers API, and where it answers
 * 404, the referrers tag schema (tag `sha256-<hex>`, an OCI index). Every index entry is read
 * whatever its `artifactType`: cosign 3 writes `application/vnd.oci.empty.v1+json` there. A
 * referring manifest counts when its own `artifactType` is the bundle type and its `subject`
 * is the image; anything else (an SBOM, a stale entry of the tag index) is skipped.
 * Spec: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#listing-referrers
 */
export async function findBundleLayers(context: CheckContext): Promise<FoundBundleLayers> {
  const index = await getReferrersIndex(context);
  if (index === undefined) return { layers: [], findings: [] };
  const parsed = ImageIndexSchema.safeParse(parseJson(index.body));
  if (!parsed.success) {
    return {
      layers: [],
      findings: [malformed(FORMAT, index.where, `not an OCI index (${firstIssue(parsed.error)})`)],
    };
  }
  const referrers = uniqueDescriptors(parsed.data.manifests).slice(0, MAX_REFERRERS);
  const read = await Promise.all(referrers.map((entry) => readReferrer(context, entry.digest)));
  return {
    layers: read.flatMap((one) => one.layers).slice(0, MAX_SIGNATURE_LAYERS),
    findings: read.flatMap((one) => one.findings),
  };
}

async function getReferrersIndex(
  context: CheckContext,
): Promise<{ body: Buffer; where: string } | undefined> {
  const body = await context.source.getReferrers(context.digest, { signal: context.signal });
  if (body !== undefined) return { body, where: 'referrers API answer' };
  const tag = referrersTag(context.digest);
  const manifest = await context.source.getManifest(tag, {
    accept: [OCI_INDEX],
    signal: context.signal,
  });
  return manifest === undefined ? undefined : { body: manifest.body, where: `tag ${tag}` };
}

/** Entries that are descriptors, each digest once; a bad entry is skipped, not fatal. */
function uniqueDescriptors(entries: readonly unknown[]): Descriptor[] {
  const seen = new Set<string>();
  const result: Descriptor[] = [];
  for (const entry of entries) {
    const parsed = DescriptorSchema.safeParse(entry);
    if (!parsed.success || seen.has(parsed.data.digest)) continue;
    seen.add(parsed.data.digest);
    result.push(parsed.data);
  }
  return result;
}

async function readReferrer(context: CheckContext, digest: string): Promise<FoundBundleLayers> {
  const none = { layers: [], findings: [] };
  const where = `referrer ${digest}`;
  const manifest = await context.source.getManifest(digest, {
    accept: [OCI_MANIFEST],
    signal: context.signal,
  });
  // A dangling index entry (the manifest was deleted) says nothing about signatures.
  if (manifest === undefined) return none;
  const json = parseJson(manifest.body);
  if ((json as { artifactType?: unknown } | undefined)?.artifactType !== SIGSTORE_BUNDLE_V03) {
    return none;
  }
  const parsed = ImageManifestSchema.safeParse(json);
  if (!parsed.success) {
    return {
      layers: [],
      findings: [malformed(FORMAT, where, `bad bundle manifest (${firstIssue(parsed.error)})`)],
    };
  }
  if (parsed.data.subject?.digest !== context.digest) return none;

  const layers: BundleLayer[] = [];
  const findings: SignatureFinding[] = [];
  parsed.data.layers.forEach((layer, index) => {
    if ((layer as { mediaType?: unknown } | null)?.mediaType !== SIGSTORE_BUNDLE_V03) return;
    const descriptor = DescriptorSchema.safeParse(layer);
    const layerWhere = `${where} layer ${index}`;
    if (descriptor.success) layers.push({ descriptor: descriptor.data, where: layerWhere });
    else
      findings.push(malformed(FORMAT, layerWhere, `bad layer (${firstIssue(descriptor.error)})`));
  });
  if (layers.length === 0 && findings.length === 0) {
    findings.push(malformed(FORMAT, where, `no ${SIGSTORE_BUNDLE_V03} layer`));
  }
  return { layers, findings };
}
