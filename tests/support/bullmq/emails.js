const { Queue, Worker } = require('bullmq');
const connection = { host: '127.0.0.1', port: Number(process.argv[2]) };
(async () => {
  const queue = new Queue('emails', { connection });
  let done = 0;
  const worker = new Worker('emails', async job => ({ sent: job.data.to }), { connection });
  worker.on('completed', () => { done += 1; });
  for (let i = 0; i < 3; i++) await queue.add('send-welcome', { to: `user${i}@example.com` });
  while (done < 3) await new Promise(r => setTimeout(r, 50));
  await worker.close(); await queue.close();
  console.log('done', done);
})().catch(e => { console.error(e); process.exit(1); });
