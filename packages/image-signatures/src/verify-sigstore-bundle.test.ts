import {
  cosignReferrersTag,
  createInTotoStatement,
  createSigstoreBundle,
  dssePreAuthEncoding,
  generateCosignKeyPair,
  OCI_EMPTY,
  OCI_MANIFEST,
  signWithKey,
} from '@molecule/real-parts';
import { describe, expect, it } from 'vitest';
import { createFakeSource, type FakeSource, sha256 } from '../test/fake-signature-source.js';
import { pushBundle, signBundle, verifierKey } from '../test/signing.js';
import { MAX_REFERRERS } from './limits.js';
import { verifyImageSignatures } from './verify-image-signatures.js';
import { judgeBundle } from './verify-sigstore-bundle.js';

const k1 = generateCosignKeyPair();
const k2 = generateCosignKeyPair();
const stranger = generateCosignKeyPair();
const DIGEST = sha256('image index');
const OTHER = sha256('another image');
const keys = [verifierKey(k1), verifierKey(k2)];

function verify(fake: FakeSource, threshold = 1) {
  return verifyImageSignatures({
    source: fake.source,
    digest: DIGEST,
    policy: { keys, threshold },
  });
}

/** The parts of a bundle's JSON the tests edit. */
interface BundleJson {
  mediaType: string;
  dsseEnvelope?: { payload: string; payloadType: string; signatures: { sig: string }[] };
  messageSignature?: unknown;
}

/** A bundle JSON edited in place. */
function editBundle(bundle: Buffer, edit: (json: BundleJson) => void): Buffer {
  const json = JSON.parse(bundle.toString()) as BundleJson;
  edit(json);
  return Buffer.from(JSON.stringify(json));
}

let sbomCount = 0;

/** An SBOM referrer of `digest`, as oras would attach it; each one different. */
function pushSbom(fake: FakeSource, digest: string): void {
  sbomCount += 1;
  const sbom = Buffer.from(`{"spdxVersion":"SPDX-2.3","name":"sbom ${sbomCount}"}`);
  const config = Buffer.from('{}');
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: 'application/spdx+json',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', size: 2, digest: sha256(config) },
      layers: [{ mediaType: 'application/spdx+json', size: sbom.length, digest: sha256(sbom) }],
      subject: { mediaType: OCI_MANIFEST, size: 500, digest },
    }),
  );
  fake.push({
    manifest,
    mediaType: OCI_MANIFEST,
    blobs: new Map([
      [sha256(sbom), sbom],
      [sha256(config), config],
    ]),
  });
  fake.writeTagIndex(digest);
}

describe('sigstore bundle referrers', () => {
  it('uses the referrers API when the registry has one, and the tag schema otherwise', async () => {
    const withApi = createFakeSource({ referrersApi: true });
    signBundle(withApi, DIGEST, k1);
    expect(await verify(withApi)).toMatchObject({ status: 'trusted' });
    expect(withApi.calls).not.toContain(`manifest ${cosignReferrersTag(DIGEST)}`);

    const without = createFakeSource();
    signBundle(without, DIGEST, k1);
    expect(await verify(without)).toMatchObject({ status: 'trusted' });
    expect(without.calls).toContain(`manifest ${cosignReferrersTag(DIGEST)}`);
  });

  it('reads tag index entries whatever their artifactType (cosign 3 writes the empty type)', async () => {
    const fake = createFakeSource();
    signBundle(fake, DIGEST, k1);
    const tagIndex = await fake.source.getManifest(cosignReferrersTag(DIGEST), { accept: [] });
    expect(JSON.parse(tagIndex!.body.toString()).manifests[0].artifactType).toBe(OCI_EMPTY);
    expect(await verify(fake)).toMatchObject({ status: 'trusted', formats: ['sigstore-bundle'] });
  });

  it('skips an SBOM referrer beside a good bundle, and answers unsigned with the SBOM alone', async () => {
    const fake = createFakeSource({ referrersApi: true });
    pushSbom(fake, DIGEST);
    expect(await verify(fake)).toMatchObject({ status: 'unsigned', reason: 'NO_SIGNATURE' });
    signBundle(fake, DIGEST, k1);
    expect(await verify(fake)).toMatchObject({ status: 'trusted', signers: [k1.keyId] });
  });

  it('skips attestations: a signed statement with another predicate is not a signature', async () => {
    const fake = createFakeSource();
    const statement = createInTotoStatement({
      digests: [DIGEST],
      predicateType: 'https://slsa.dev/provenance/v1',
    });
    pushBundle(fake, DIGEST, createSigstoreBundle({ key: k1, digest: DIGEST, statement }));
    expect(await verify(fake)).toMatchObject({ status: 'unsigned', reason: 'NO_SIGNATURE' });
  });

  it('skips a referrer whose subject is another digest', async () => {
    const fake = createFakeSource();
    const elsewhere = signBundle(fake, OTHER, k1);
    // A stale tag index of DIGEST that lists OTHER's referrer.
    fake.putManifest(
      cosignReferrersTag(DIGEST),
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          manifests: [
            { mediaType: OCI_MANIFEST, digest: elsewhere.digest, size: elsewhere.manifest.length },
          ],
        }),
      ),
    );
    expect(await verify(fake)).toMatchObject({ status: 'unsigned' });
  });

  it('refuses a valid bundle whose statement names another digest', async () => {
    const fake = createFakeSource();
    pushBundle(fake, DIGEST, createSigstoreBundle({ key: k1, digest: OTHER }));
    const verdict = await verify(fake);
    expect(verdict).toMatchObject({ status: 'untrusted', reason: 'DIGEST_MISMATCH' });
    expect(verdict.status === 'untrusted' && verdict.detail).toContain(OTHER);
  });

  it('accepts a statement with several subjects when one is the image', async () => {
    const fake = createFakeSource();
    const statement = createInTotoStatement({ digests: [OTHER, DIGEST] });
    pushBundle(fake, DIGEST, createSigstoreBundle({ key: k1, digest: DIGEST, statement }));
    expect(await verify(fake)).toMatchObject({ status: 'trusted' });
  });

  it('refuses a tampered statement', async () => {
    const fake = createFakeSource();
    const bundle = editBundle(createSigstoreBundle({ key: k1, digest: DIGEST }), (json) => {
      const statement = Buffer.from(json.dsseEnvelope!.payload, 'base64').toString();
      json.dsseEnvelope!.payload = Buffer.from(
        statement.replace('"annotations":{}', '"annotations":{"x":"y"}'),
      ).toString('base64');
    });
    pushBundle(fake, DIGEST, bundle);
    expect(await verify(fake)).toMatchObject({ status: 'untrusted', reason: 'UNKNOWN_KEY' });
  });

  it('refuses a signature over the payload instead of the PAE', async () => {
    const statement = createInTotoStatement({ digests: [DIGEST] });
    const bundle = editBundle(createSigstoreBundle({ key: k1, digest: DIGEST }), (json) => {
      json.dsseEnvelope!.signatures = [{ sig: signWithKey(k1, statement).toString('base64') }];
    });
    expect(judgeBundle({ digest: DIGEST, keys }, bundle, 'test')).toEqual([
      { kind: 'unverified', format: 'sigstore-bundle', where: 'test' },
    ]);
  });

  it('never trusts the key hint: tries every key, whatever the hint says', async () => {
    const misleading = createSigstoreBundle({ key: k2, digest: DIGEST, signers: [k1] });
    expect(judgeBundle({ digest: DIGEST, keys }, misleading, 'test')).toMatchObject([
      { kind: 'valid', keyId: k1.keyId },
    ]);
    const claimsK1 = createSigstoreBundle({ key: k1, digest: DIGEST, signers: [stranger] });
    expect(judgeBundle({ digest: DIGEST, keys }, claimsK1, 'test')).toMatchObject([
      { kind: 'unverified' },
    ]);
  });

  it('counts each key of a multi-signature envelope', async () => {
    const fake = createFakeSource();
    pushBundle(
      fake,
      DIGEST,
      createSigstoreBundle({ key: k1, digest: DIGEST, signers: [k1, stranger, k2] }),
    );
    expect(await verify(fake, 2)).toMatchObject({
      status: 'trusted',
      signers: [k1.keyId, k2.keyId].sort(),
    });
  });

  it.each([
    ['not JSON', () => Buffer.from('not json')],
    [
      'another bundle version',
      () =>
        editBundle(createSigstoreBundle({ key: k1, digest: DIGEST }), (j) => {
          j.mediaType = 'application/vnd.dev.sigstore.bundle+json;version=0.1';
        }),
    ],
    [
      'a message signature instead of DSSE',
      () =>
        editBundle(createSigstoreBundle({ key: k1, digest: DIGEST }), (j) => {
          j.messageSignature = { signature: 'AAAA' };
          delete j.dsseEnvelope;
        }),
    ],
    [
      'another DSSE payload type',
      () =>
        editBundle(createSigstoreBundle({ key: k1, digest: DIGEST }), (j) => {
          j.dsseEnvelope!.payloadType = 'text/plain';
        }),
    ],
    [
      'a payload that is not base64',
      () =>
        editBundle(createSigstoreBundle({ key: k1, digest: DIGEST }), (j) => {
          j.dsseEnvelope!.payload = '%%%';
        }),
    ],
    [
      'signatures that are not base64',
      () =>
        editBundle(createSigstoreBundle({ key: k1, digest: DIGEST }), (j) => {
          j.dsseEnvelope!.signatures = [{ sig: '***' }];
        }),
    ],
    [
      'a signed statement that is not in-toto',
      () => {
        const payload = Buffer.from('{"hello":"world"}');
        return editBundle(createSigstoreBundle({ key: k1, digest: DIGEST }), (j) => {
          j.dsseEnvelope!.payload = payload.toString('base64');
          j.dsseEnvelope!.signatures = [
            {
              sig: signWithKey(
                k1,
                dssePreAuthEncoding('application/vnd.in-toto+json', payload),
              ).toString('base64'),
            },
          ];
        });
      },
    ],
  ])('refuses a bundle with %s as BAD_PAYLOAD', async (_name, make) => {
    const fake = createFakeSource();
    pushBundle(fake, DIGEST, make());
    expect(await verify(fake)).toMatchObject({ status: 'untrusted', reason: 'BAD_PAYLOAD' });
  });

  it('does not let a bad bundle or a bad referrer spoil a good one beside them', async () => {
    const fake = createFakeSource();
    pushBundle(fake, DIGEST, Buffer.from('garbage'));
    const broken = Buffer.from(
      JSON.stringify({
        artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
        layers: 'no',
      }),
    );
    fake.putManifest(sha256(broken), broken);
    signBundle(fake, DIGEST, k1);
    const index = JSON.parse(
      (await fake.source.getManifest(cosignReferrersTag(DIGEST), { accept: [] }))!.body.toString(),
    );
    index.manifests.unshift(
      { mediaType: OCI_MANIFEST, digest: sha256(broken), size: broken.length },
      { digest: 'bad entry' },
      { mediaType: OCI_MANIFEST, digest: sha256('deleted'), size: 1 },
    );
    fake.putManifest(cosignReferrersTag(DIGEST), Buffer.from(JSON.stringify(index)));
    expect(await verify(fake)).toMatchObject({ status: 'trusted', signers: [k1.keyId] });
  });

  it('refuses an unreadable referrers index as BAD_PAYLOAD', async () => {
    const fake = createFakeSource();
    fake.putManifest(cosignReferrersTag(DIGEST), Buffer.from('[]'));
    expect(await verify(fake)).toMatchObject({ status: 'untrusted', reason: 'BAD_PAYLOAD' });
  });

  it(`reads at most ${MAX_REFERRERS} referrers`, async () => {
    const fake = createFakeSource({ referrersApi: true });
    for (let i = 0; i < MAX_REFERRERS; i += 1) pushSbom(fake, DIGEST);
    for (let i = 0; i < MAX_REFERRERS; i += 1) {
      pushBundle(fake, DIGEST, createSigstoreBundle({ key: stranger, digest: DIGEST }));
    }
    signBundle(fake, DIGEST, k1);
    const verdict = await verify(fake);
    expect(fake.calls.filter((call) => call.startsWith('manifest sha256:'))).toHaveLength(
      MAX_REFERRERS,
    );
    expect(verdict.status).not.toBe('trusted');
  });
});

describe('judgeBundle says what is wrong', () => {
  const judge = (bundle: Buffer) => judgeBundle({ digest: DIGEST, keys }, bundle, 'here');
  const resign = (payload: Buffer) => (j: BundleJson) => {
    j.dsseEnvelope!.payload = payload.toString('base64');
    j.dsseEnvelope!.signatures = [
      {
        sig: signWithKey(k1, dssePreAuthEncoding('application/vnd.in-toto+json', payload)).toString(
          'base64',
        ),
      },
    ];
  };
  const good = () => createSigstoreBundle({ key: k1, digest: DIGEST });

  it.each([
    [
      'not JSON',
      () => Buffer.from('not json'),
      'not a sigstore bundle v0.3 with a DSSE envelope (Invalid input: expected object, received undefined)',
    ],
    [
      'another DSSE payload type',
      () =>
        editBundle(good(), (j) => {
          j.dsseEnvelope!.payloadType = 'text/plain';
        }),
      'DSSE payloadType "text/plain" is not in-toto',
    ],
    [
      'a payload that is not base64',
      () =>
        editBundle(good(), (j) => {
          j.dsseEnvelope!.payload = '%%%';
        }),
      'DSSE payload is not base64',
    ],
    [
      'signatures that are not base64',
      () =>
        editBundle(good(), (j) => {
          j.dsseEnvelope!.signatures = [{ sig: '***' }];
        }),
      'no DSSE signature is base64',
    ],
  ])('%s', (_name, make, problem) => {
    expect(judge(make())).toEqual([
      { kind: 'malformed', format: 'sigstore-bundle', where: 'here', problem },
    ]);
  });

  it("a signed statement that is not in-toto is signed-malformed, with zod's reason", () => {
    const bundle = editBundle(good(), resign(Buffer.from('{"hello":"world"}')));
    expect(judge(bundle)).toEqual([
      {
        kind: 'signed-malformed',
        format: 'sigstore-bundle',
        keyId: k1.keyId,
        where: 'here',
        problem: expect.stringMatching(/^not an in-toto statement \(_type: .+\)$/),
      },
    ]);
  });

  it('takes only sha256 subjects as signed digests', () => {
    const statement = createInTotoStatement({ digests: [`sha512:${'a'.repeat(128)}`] });
    const bundle = createSigstoreBundle({ key: k1, digest: DIGEST, statement });
    expect(judge(bundle)).toEqual([
      {
        kind: 'digest-mismatch',
        format: 'sigstore-bundle',
        keyId: k1.keyId,
        signedDigests: [],
        where: 'here',
      },
    ]);
  });
});
