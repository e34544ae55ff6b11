import { pino, type Logger } from 'pino';

/**
 * Structured JSON logs. Patient-identifying fields and credentials are redacted wherever they
 * appear; the code also avoids logging them (query values, bodies) in the first place.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
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
  });
}
