/** The CloudTrail operations crumbtrail serves (all read-only), as credentials may list them. */
import { TRAIL_OPERATIONS } from './built-in-trail.js';

export const CLOUDTRAIL_OPERATIONS: readonly string[] = ['LookupEvents', ...TRAIL_OPERATIONS];
