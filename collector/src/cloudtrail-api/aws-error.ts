/*
 * Errors as AWS JSON 1.1 services answer them: an HTTP status and `{"__type": code, "message"}`.
 * botocore and the SDK read the code from `__type` and raise the modelled exception, so each code
 * here is CloudTrail's own (or AWS's common one for authentication), and none of them is one the
 * clients retry: a permanent error must not be retried three to five times.
 */
export class AwsApiError extends Error {
  override readonly name = 'AwsApiError';
  constructor(
    readonly code: string,
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

export const invalidParameter = (code: string, message: string): AwsApiError =>
  new AwsApiError(code, 400, message);
