import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import {
  decodeEventMessage,
  decodeResolveAllResponse,
  decodeResolveRequest,
  decodeResolveResponse,
  encodeEventMessage,
  encodeResolveAllResponse,
  encodeResolveRequest,
  encodeResolveResponse,
  type ResolveKind,
} from '../../src/grpc/evaluation-wire.js';

// protobufjs as the reference codec (test only), with flagd.evaluation.v2's messages as
// flagd-spec §d.2 lists them (v1 has the same field numbers without `optional`).
const struct = protobuf.common.get('google/protobuf/struct.proto') as protobuf.INamespace;
const root = protobuf.Root.fromJSON(struct);
const S = 'google.protobuf.Struct';
const response = (type: string) => ({
  oneofs: { _value: { oneof: ['value'] }, _variant: { oneof: ['variant'] } },
  fields: {
    value: { type, id: 1, options: { proto3_optional: true } },
    reason: { type: 'string', id: 2 },
    variant: { type: 'string', id: 3, options: { proto3_optional: true } },
    metadata: { type: S, id: 4 },
  },
});
root.addJSON(<Record<string, protobuf.AnyNestedObject>>(<unknown>{
  ev: {
    nested: {
      ResolveRequest: {
        fields: { flag_key: { type: 'string', id: 1 }, context: { type: S, id: 2 } },
      },
      Boolean: response('bool'),
      String: response('string'),
      Int: response('int64'),
      Float: response('double'),
      Object: response(S),
      AnyFlag: {
        oneofs: {
          value: { oneof: ['bool_value', 'string_value', 'double_value', 'object_value'] },
        },
        fields: {
          reason: { type: 'string', id: 1 },
          variant: { type: 'string', id: 2 },
          bool_value: { type: 'bool', id: 3 },
          string_value: { type: 'string', id: 4 },
          double_value: { type: 'double', id: 5 },
          object_value: { type: S, id: 6 },
          metadata: { type: S, id: 7 },
        },
      },
      ResolveAllResponse: {
        fields: {
          flags: { keyType: 'string', type: 'AnyFlag', id: 1 },
          metadata: { type: S, id: 2 },
        },
      },
      EventStreamResponse: {
        fields: { type: { type: 'string', id: 1 }, data: { type: S, id: 2 } },
      },
    },
  },
}));
root.resolveAll();
const type = (name: string) => root.lookupType(`ev.${name}`);
const jsonValue: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string(),
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(fc.string(), tie('v'), { maxKeys: 3 }),
  ),
})).v;
const jsonObject = fc.dictionary(fc.string(), jsonValue, { maxKeys: 4 }) as fc.Arbitrary<
  Record<string, never>
>;
const metadata = fc.dictionary(
  fc.string(),
  fc.oneof(fc.boolean(), fc.string(), fc.double({ noNaN: true, noDefaultInfinity: true })),
  { maxKeys: 3 },
) as fc.Arbitrary<Record<string, never>>;

/** A message as protobufjs decodes it, as a plain object. */
function plain(t: protobuf.Type, bytes: Uint8Array): Record<string, unknown> {
  return t.toObject(t.decode(bytes)) as Record<string, unknown>;
}

describe('flagd.evaluation wire format', () => {
  it('encodes Resolve requests protobufjs reads, and reads what protobufjs writes', () => {
    fc.assert(
      fc.property(fc.string(), jsonObject, (flagKey, context) => {
        const T = type('ResolveRequest');
        const decoded = plain(T, encodeResolveRequest({ flagKey, context }));
        expect(decoded['flag_key'] ?? '').toBe(flagKey);
        const bytes = T.encode(
          T.fromObject({ flag_key: flagKey, context: decoded['context'] }),
        ).finish();
        expect(decodeResolveRequest(bytes)).toEqual({ flagKey, context });
      }),
      { numRuns: 300 },
    );
  });

  const values: Record<ResolveKind, fc.Arbitrary<unknown>> = {
    Boolean: fc.boolean(),
    String: fc.string(),
    Int: fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
    Float: fc.double({ noNaN: true, noDefaultInfinity: true }),
    Object: jsonObject,
  };
  it.each(Object.keys(values) as ResolveKind[])(
    'round-trips Resolve%sResponse with protobufjs, value and variant present or absent',
    (kind) => {
      fc.assert(
        fc.property(
          fc.option(values[kind], { nil: undefined }),
          fc.string(),
          fc.option(fc.string(), { nil: undefined }),
          metadata,
          (value, reason, variant, meta) => {
            const ours = {
              ...(value === undefined ? {} : { value: value as never }),
              reason,
              ...(variant === undefined ? {} : { variant }),
              metadata: meta,
            };
            const T = type(kind);
            const decoded = T.decode(encodeResolveResponse(kind, ours)) as unknown as Record<
              string,
              unknown
            >;
            if (kind === 'Int') {
              // protobufjs gives an int64 field an own default (a Long) even when absent
              if (value !== undefined) expect(Number(decoded['value'])).toBe(value);
            } else expect(Object.hasOwn(decoded, 'value')).toBe(value !== undefined); // v2's `optional`
            expect(Object.hasOwn(decoded, 'variant') ? decoded['variant'] : undefined).toBe(
              variant,
            );
            // protobufjs writes it back; rampflag reads the same response
            if (kind === 'Int' && value === undefined) delete decoded['value'];
            if (kind === 'Int' && value === undefined) delete decoded['value'];
            const again = T.encode(decoded as never).finish();
            const back = decodeResolveResponse(kind, again);
            expect(back).toEqual(
              kind === 'Float' && value !== undefined && Object.is(value, -0)
                ? { ...ours, value: -0 }
                : ours,
            );
          },
        ),
        { numRuns: 200 },
      );
    },
  );

  it('round-trips ResolveAllResponse and EventStreamResponse with protobufjs', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string(),
          fc.record({
            reason: fc.string(),
            variant: fc.string(),
            value: fc.oneof(
              fc.boolean(),
              fc.string(),
              fc.double({ noNaN: true, noDefaultInfinity: true }),
              jsonObject,
            ),
            metadata,
          }),
          { maxKeys: 4 },
        ),
        metadata,
        (flags, meta) => {
          const T = type('ResolveAllResponse');
          const all = { flags: flags as never, metadata: meta };
          const again = T.encode(T.decode(encodeResolveAllResponse(all))).finish();
          expect(decodeResolveAllResponse(again)).toEqual(all);
        },
      ),
      { numRuns: 200 },
    );
    const E = type('EventStreamResponse');
    const event = { type: 'configuration_change', data: { flags: { a: { type: 'update' } } } };
    const decoded = E.decode(encodeEventMessage(event as never)) as unknown as { type: string };
    expect(decoded.type).toBe('configuration_change');
    expect(decodeEventMessage(E.encode(decoded).finish())).toEqual(event);
  });
});
