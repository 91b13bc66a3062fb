import { z } from 'zod';
import {
  IN_TOTO_STATEMENT_V1,
  IN_TOTO_STATEMENT_V01,
  SIGSTORE_BUNDLE_V03,
  SIGSTORE_BUNDLE_V03_ALT,
} from './media-types.js';

/** Spec: https://github.com/secure-systems-lab/dsse/blob/master/envelope.md */
export const DsseEnvelopeSchema = z.object({
  payload: z.string(),
  payloadType: z.string(),
  signatures: z.array(z.object({ sig: z.string(), keyid: z.string().optional() })).min(1),
});
export type DsseEnvelope = z.infer<typeof DsseEnvelopeSchema>;

/**
 * A sigstore bundle v0.3 carrying a DSSE envelope, in the protobuf JSON mapping (camelCase
 * names, `bytes` as base64). Only what key-based trust reads: the envelope (the key hint in
 * `verificationMaterial.publicKey` is never trusted, so it is not read either).
 * Transparency-log entries and RFC 3161 timestamps are not read (see the README).
 * Spec: https://github.com/sigstore/protobuf-specs/blob/main/protos/sigstore_bundle.proto
 */
export const SigstoreBundleSchema = z.object({
  mediaType: z.enum([SIGSTORE_BUNDLE_V03, SIGSTORE_BUNDLE_V03_ALT]),
  dsseEnvelope: DsseEnvelopeSchema,
});
export type SigstoreBundle = z.infer<typeof SigstoreBundleSchema>;

/**
 * An in-toto statement, as far as trust reads it. cosign v3's `cosign sign` writes subjects
 * without `name`, and the subject can be an image index.
 * Spec: https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md
 */
export const InTotoStatementSchema = z.object({
  _type: z.enum([IN_TOTO_STATEMENT_V1, IN_TOTO_STATEMENT_V01]),
  subject: z
    .array(z.object({ name: z.string().optional(), digest: z.record(z.string(), z.string()) }))
    .min(1),
  predicateType: z.string(),
});
export type InTotoStatement = z.infer<typeof InTotoStatementSchema>;

/**
 * DSSE's pre-authentication encoding: what is signed, instead of the payload itself.
 * `DSSEv1 <len(type)> <type> <len(body)> <body>`, lengths in bytes as ASCII decimal.
 * Spec: https://github.com/secure-systems-lab/dsse/blob/master/protocol.md#signature-definition
 */
export function preAuthEncoding(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'utf8'),
    type,
    Buffer.from(` ${payload.length} `, 'utf8'),
    payload,
  ]);
}
