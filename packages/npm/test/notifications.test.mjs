// clone.notifications(): the run's delivery log, filtered as the admin route filters it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { s3 } from "s3twin";
import { PutBucketNotificationConfigurationCommand } from "@aws-sdk/client-s3";

test("an event for a destination without a webhook is logged as undeliverable", async () => {
  const clone = await s3.start();
  await clone.createBucket("notified");
  const arn = "arn:aws:sqs:us-east-1:000000000000:jobs";
  await clone.client().send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: "notified",
      NotificationConfiguration: {
        QueueConfigurations: [{ Id: "jobs", QueueArn: arn, Events: ["s3:ObjectCreated:*"] }],
      },
    }),
  );
  await clone.putObject("notified", "in/a.txt", "a");
  const created = await clone.notifications({ eventName: "ObjectCreated:*", wait: 1 });
  assert.equal(created.length, 1, JSON.stringify(created));
  assert.equal(created[0].eventName, "s3:ObjectCreated:Put");
  assert.equal(created[0].key, "in/a.txt");
  assert.equal(created[0].status, "undeliverable");
  assert.equal(created[0].destination.arn, arn);
  await clone.stop();
});
