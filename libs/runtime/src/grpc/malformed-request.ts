// A request whose bytes do not decode is the client's fault. grpc-js answers a throwing request
// decoder with INTERNAL ("Error deserializing request") before any handler runs, which reads as a
// server bug and, on a bidi stream, ends the call at once (issue 17, found by the protocol fuzzer).
// createGrpcServer wraps every method's decoder to hand the handler adapters this marker instead;
// they answer INVALID_ARGUMENT (a stream: once the messages before it are handled).
import type { ServiceDefinition } from '@grpc/grpc-js';
import { VerdictError } from '../errors/verdict-error.js';

/** Longest decoder message quoted in the status (decoder messages can quote offsets and lengths). */
const REASON_MAX_CHARS = 200;

export class MalformedRequest {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {}

  toError(): VerdictError {
    return new VerdictError(
      'INVALID_ARGUMENT',
      `the request to ${this.path} is not a valid protobuf message of its type (${this.reason})`,
      { field: 'request' },
    );
  }
}

/** Throws the INVALID_ARGUMENT of a malformed request; returns any other request unchanged. */
export function decodedRequest<Req>(request: Req | MalformedRequest): Req {
  if (request instanceof MalformedRequest) throw request.toError();
  return request;
}

/** The definition with decoders that return a MalformedRequest instead of throwing. */
export function withTolerantDecoders(definition: ServiceDefinition): ServiceDefinition {
  const out: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(definition)) {
    const decode = method.requestDeserialize;
    out[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer): unknown => {
        try {
          return decode(bytes);
        } catch (error) {
          const reason = error instanceof Error ? error.message : 'decode failed';
          return new MalformedRequest(method.path, reason.slice(0, REASON_MAX_CHARS));
        }
      },
    };
  }
  return out as ServiceDefinition;
}
