import { pino, type Logger } from 'pino'

/** JSON logs; secrets that could reach a log line by accident are redacted by path. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({
    level,
    base: { service: 'verivault' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['req.headers.authorization', 'req.headers["x-api-key"]', 'headers.authorization', 'headers["x-api-key"]', '*.password', '*.client_secret', '*.secret', '*.token'],
      censor: '[redacted]',
    },
    serializers: { err: pino.stdSerializers.err },
  }, destination ?? pino.destination({ dest: 1, sync: false }))
}
