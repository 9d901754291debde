import { fixtureLauncher } from '../../helpers/chaos-upstream.js';
import { describeChaos } from './chaos-suite.js';

describeChaos('balancer chaos against stand-in upstream processes', {
  launcher: async () => fixtureLauncher({ LOG_REQUESTS: '0', DELAY_MS: '2' }),
});
