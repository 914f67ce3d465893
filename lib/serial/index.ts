/** fleet-serial's domain: line splitting, provisioning, redaction, the shared port connection, the port list. */
export * from './line-splitter';
export * from './redact';
export * from './provisioning';
export * from './config';
export * from './connection';
export * from './port-list';
