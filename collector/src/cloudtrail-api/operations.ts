/** The CloudTrail operations crumbtrail serves (all read-only), as credentials may list them. */
import { TRAIL_OPERATIONS } from './built-in-trail.js';
import { S3_OPERATIONS } from './s3-read-api.js';

export const CLOUDTRAIL_OPERATIONS: readonly string[] = [
  'LookupEvents',
  'ListPublicKeys',
  ...TRAIL_OPERATIONS,
];

/** What a credential's `operations` may list: CloudTrail's operations and the S3 subset's actions. */
export const CREDENTIAL_OPERATIONS: readonly string[] = [...CLOUDTRAIL_OPERATIONS, ...S3_OPERATIONS];
