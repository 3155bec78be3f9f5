import { describeServerLost } from './server-lost.js';

describeServerLost('kill');
