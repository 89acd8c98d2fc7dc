/*
 * Entry of an ingest thread (a piscina worker): decodes and maps one export request, so that
 * the main thread, which also answers the query API, only moves bytes.
 */
import { decodeExport } from './decode-export.js';

export default decodeExport;
