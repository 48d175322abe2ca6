import pino from 'pino';

export type Logger = pino.Logger;

export interface LoggerConfig {
  level: string;
  format: 'json' | 'logfmt';
}

export function createLogger(cfg: Partial<LoggerConfig> = {}, dest?: pino.DestinationStream): Logger {
  const opts: pino.LoggerOptions = {
    level: cfg.level ?? 'info',
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return dest ? pino(opts, dest) : pino(opts);
}

export function nopLogger(): Logger {
  return pino({ level: 'silent' });
}
