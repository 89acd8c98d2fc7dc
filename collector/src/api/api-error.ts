/** An error the query API answers with its own status and message (never a stack trace). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** 400 naming the parameter at fault. */
export function badParameter(name: string, problem: string): ApiError {
  return new ApiError(400, `invalid parameter "${name}": ${problem}`);
}
