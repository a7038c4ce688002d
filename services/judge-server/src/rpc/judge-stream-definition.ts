import { judgeV1 } from '@verdict/proto';

/** Sizes of one judge item (README, "Limits"), checked before its text is tokenized. */
export const JUDGE_ITEM_LIMITS = {
  idChars: 256,
  templateNameChars: 128,
  groupKeyChars: 256,
  questionChars: 65_536,
  solutionChars: 65_536,
} as const;

/** A JudgeStream message that did not decode: handed to the handler instead of thrown. */
export class MalformedStreamMessage {
  constructor(readonly reason: string) {}
}

/**
 * The JudgeService definition with a JudgeStream request decoder that does not throw. grpc-js
 * answers a decode failure by ending the whole call at once with INTERNAL, which dropped the
 * results of the items the stream had already accepted (issue 17). Decoding to a marker lets the
 * handler stop reading, send those results, and end with INVALID_ARGUMENT.
 */
export const JUDGE_SERVICE_DEFINITION = {
  ...judgeV1.JudgeServiceService,
  judgeStream: {
    ...judgeV1.JudgeServiceService.judgeStream,
    requestDeserialize: (value: Buffer): judgeV1.JudgeStreamRequest | MalformedStreamMessage => {
      try {
        return judgeV1.JudgeStreamRequest.decode(value);
      } catch (error) {
        return new MalformedStreamMessage(
          error instanceof Error ? error.message.slice(0, 200) : 'decode failed',
        );
      }
    },
  },
} as const;
