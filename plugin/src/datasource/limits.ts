/** The collector's page size limit (maxResults of one /api/v1/events request). */
export const COLLECTOR_PAGE_SIZE = 1000;
/** What one events query may ask for, paging through the collector: a busy day in a panel, still fast to render. */
export const MAX_EVENTS_PER_QUERY = 10_000;
