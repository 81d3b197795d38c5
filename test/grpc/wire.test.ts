import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import {
  decodeStruct,
  decodeSyncRequest,
  decodeSyncResponse,
  encodeMetadataResponse,
  encodeStruct,
  encodeSyncRequest,
  encodeSyncResponse,
} from '../../src/grpc/wire.js';

// protobufjs, the reference codec (test only: it generates code at run time, which rampflag avoids),
// reading the project's own .proto: so the hand-written codec and the published schema agree.
const struct = protobuf.common.get('google/protobuf/struct.proto') as protobuf.INamespace;
const root = protobuf.Root.fromJSON(struct as protobuf.INamespace);
protobuf.parse(readFileSync('proto/flagd/sync/v1/sync.proto', 'utf8'), root, { keepCase: true });
root.resolveAll();
const Struct = root.lookupType('google.protobuf.Struct');
const Request = root.lookupType('flagd.sync.v1.SyncFlagsRequest');
const Response = root.lookupType('flagd.sync.v1.SyncFlagsResponse');

/** JSON objects as a Struct holds them (numbers are doubles, no undefined). */
const jsonValue: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ unit: 'binary-ascii' }),
    fc.string(),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(fc.string(), tie('v'), { maxKeys: 4 }),
  ),
})).v;
const jsonObject = fc.dictionary(fc.string(), jsonValue, { maxKeys: 5 }) as fc.Arbitrary<
  Record<string, never>
>;

describe('protobuf wire format', () => {
  it('encodes a Struct that protobufjs reads back as the same JSON', () => {
    fc.assert(
      fc.property(jsonObject, (object) => {
        const decoded = Struct.toObject(Struct.decode(encodeStruct(object)));
        expect(protobuf.util.isObject(decoded)).toBe(true);
        expect(decodeStruct(Struct.encode(Struct.fromObject(decoded)).finish())).toEqual(object);
      }),
      { numRuns: 500 },
    );
  });

  it('decodes the Struct protobufjs writes', () => {
    const message = {
      fields: {
        a: { stringValue: 'x' },
        n: { numberValue: 1.5 },
        b: { boolValue: true },
        z: { nullValue: 0 },
        l: {
          listValue: {
            values: [{ numberValue: 1 }, { structValue: { fields: { k: { stringValue: 'v' } } } }],
          },
        },
      },
    };
    expect(decodeStruct(Struct.encode(Struct.fromObject(message)).finish())).toEqual({
      a: 'x',
      n: 1.5,
      b: true,
      z: null,
      l: [1, { k: 'v' }],
    });
  });

  it('round-trips SyncFlagsRequest and SyncFlagsResponse with protobufjs', () => {
    const request = Request.toObject(
      Request.decode(encodeSyncRequest({ providerId: 'svc-1', selector: 'flagSetId=shop' })),
    );
    expect(request).toEqual({ provider_id: 'svc-1', selector: 'flagSetId=shop' });
    expect(
      decodeSyncRequest(Request.encode(Request.fromObject({ provider_id: 'p' })).finish()),
    ).toEqual({ providerId: 'p' });
    const bytes = Response.encode(
      Response.fromObject({
        flag_configuration: '{"flags":{}}',
        sync_context: { fields: { env: { stringValue: 'prod' } } },
      }),
    ).finish();
    expect(decodeSyncResponse(bytes)).toEqual({
      flagConfiguration: '{"flags":{}}',
      syncContext: { env: 'prod' },
    });
    const ours = Response.toObject(
      Response.decode(encodeSyncResponse({ flagConfiguration: 'é', syncContext: { a: 1 } })),
    );
    expect(ours).toEqual({
      flag_configuration: 'é',
      sync_context: { fields: { a: { numberValue: 1 } } },
    });
  });

  it('encodes FetchAllFlagsResponse and GetMetadataResponse as the .proto defines them', () => {
    const FetchAll = root.lookupType('flagd.sync.v1.FetchAllFlagsResponse');
    const Metadata = root.lookupType('flagd.sync.v1.GetMetadataResponse');
    const fetched = FetchAll.decode(encodeSyncResponse({ flagConfiguration: '{"flags":{}}' }));
    expect(FetchAll.toObject(fetched)).toEqual({ flag_configuration: '{"flags":{}}' });
    const metadata = Metadata.decode(encodeMetadataResponse({ injectedmetadata: 'set' }));
    expect(Metadata.toObject(metadata)).toEqual({
      metadata: { fields: { injectedmetadata: { stringValue: 'set' } } },
    });
  });

  it('skips unknown fields and rejects truncated input', () => {
    const withExtra = Uint8Array.from([
      ...encodeSyncResponse({ flagConfiguration: 'x' }),
      0x18,
      0x05,
      0x22,
      0x01,
      0x41,
    ]);
    expect(decodeSyncResponse(withExtra)).toEqual({ flagConfiguration: 'x' });
    expect(() => decodeSyncResponse(Uint8Array.from([0x0a, 0x05, 0x61]))).toThrow(RangeError);
  });
});
