// The readers live in ./readers/ (one file per format); this module keeps the import path
// `./readers.js` that the pipeline and the ingest command use.
export * from './readers/index.js';
