import { MethodKind, proto3, Struct } from '@bufbuild/protobuf';

/**
 * The part of `flagd.evaluation.v1.Service` browser clients call (`ResolveAll`, `EventStream`), as
 * protobuf-es descriptors for connect-web clients in tests: the same fields as the generated code
 * inside `@openfeature/flagd-web-provider`, which that package does not export.
 */
const EventStreamRequest = proto3.makeMessageType('flagd.evaluation.v1.EventStreamRequest', []);
const EventStreamResponse = proto3.makeMessageType('flagd.evaluation.v1.EventStreamResponse', [
  { no: 1, name: 'type', kind: 'scalar', T: 9 },
  { no: 2, name: 'data', kind: 'message', T: Struct },
]);
const ResolveAllRequest = proto3.makeMessageType('flagd.evaluation.v1.ResolveAllRequest', [
  { no: 1, name: 'context', kind: 'message', T: Struct },
]);
const AnyFlag = proto3.makeMessageType('flagd.evaluation.v1.AnyFlag', [
  { no: 1, name: 'reason', kind: 'scalar', T: 9 },
  { no: 2, name: 'variant', kind: 'scalar', T: 9 },
  { no: 3, name: 'bool_value', kind: 'scalar', T: 8, oneof: 'value' },
  { no: 4, name: 'string_value', kind: 'scalar', T: 9, oneof: 'value' },
  { no: 5, name: 'double_value', kind: 'scalar', T: 1, oneof: 'value' },
  { no: 6, name: 'object_value', kind: 'message', T: Struct, oneof: 'value' },
  { no: 7, name: 'metadata', kind: 'message', T: Struct },
]);
const ResolveAllResponse = proto3.makeMessageType('flagd.evaluation.v1.ResolveAllResponse', [
  { no: 1, name: 'flags', kind: 'map', K: 9, V: { kind: 'message', T: AnyFlag } },
  { no: 2, name: 'metadata', kind: 'message', T: Struct },
]);

export const EvaluationService = {
  typeName: 'flagd.evaluation.v1.Service',
  methods: {
    resolveAll: {
      name: 'ResolveAll',
      I: ResolveAllRequest,
      O: ResolveAllResponse,
      kind: MethodKind.Unary,
    },
    eventStream: {
      name: 'EventStream',
      I: EventStreamRequest,
      O: EventStreamResponse,
      kind: MethodKind.ServerStreaming,
    },
  },
} as const;
