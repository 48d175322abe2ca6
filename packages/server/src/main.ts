import { ConfigError, createLogger, flagsHelp, loadConfig } from '@strata/common';
import { Strata } from './app';

async function main(): Promise<void> {
  let loaded;
  try {
    loaded = loadConfig(process.argv.slice(2));
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`error: ${e.message}\nRun with -help for the list of flags.\n`);
      process.exit(1);
    }
    throw e;
  }
  if (loaded.help) {
    process.stdout.write(`Usage: strata [flags]\n  -config.file string\n    \tYAML configuration file.\n${flagsHelp()}\n`);
    return;
  }
  const logger = createLogger({ level: loaded.config['log.level'] });
  const strata = new Strata(loaded.config, logger);
  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal: sig }, 'stopping');
    strata.stop().then(
      () => process.exit(0),
      (e: Error) => {
        logger.error({ err: e.message }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  try {
    await strata.start();
  } catch (e) {
    logger.error({ err: (e as Error).message }, 'failed to start');
    process.exit(1);
  }
}

void main();
