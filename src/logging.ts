import { pino, type DestinationStream, type Logger } from 'pino';
import { logSafeError } from './db/index.ts';

/**
 * Structured JSON logs. Patient-identifying fields and credentials are redacted wherever they
 * appear; the code also avoids logging them (query values, bodies) in the first place. Errors,
 * under `err` or `error`, are logged by what names them only (logSafeError): a database driver's
 * error carries the statement's values, so it is logged by SQLSTATE code and statement name.
 * `destination` defaults to stdout (tests pass a stream to read what was logged).
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    serializers: { err: logSafeError, error: logSafeError },
    redact: {
      paths: [
        'req.headers.authorization',
        'headers.authorization',
        'token',
        '*.token',
        '*.nhsNumber',
        '*.nhs',
        '*.name',
        '*.birthDate',
        '*.address',
        '*.telecom',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
