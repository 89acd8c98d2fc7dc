/*
 * The failures the demo services answer with, CloudTrail-style: an error code, an HTTP status and a
 * message. The audit adapters read `code` and `message` from a thrown error, so a service that
 * throws these gets errorCode and errorMessage on its events without further work.
 */

export class ServiceError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

export function accessDenied(callerArn: string, action: string, resourceArn: string): ServiceError {
  return new ServiceError(
    'AccessDenied',
    403,
    `User: ${callerArn} is not authorized to perform: ${action} on resource: ${resourceArn}`,
  );
}

export function notFound(resourceType: string, name: string): ServiceError {
  return new ServiceError('NotFound', 404, `${resourceType} ${name} does not exist`);
}

export function alreadyExists(resourceType: string, name: string): ServiceError {
  return new ServiceError('EntityAlreadyExists', 409, `${resourceType} ${name} already exists`);
}

export function unrecognizedClient(): ServiceError {
  return new ServiceError('UnrecognizedClient', 401, 'The API key or console session is not valid');
}

export function invalidParameter(name: string): ServiceError {
  return new ServiceError('ValidationError', 400, `${name} is required`);
}
