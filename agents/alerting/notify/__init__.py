"""Delivery of alert notifications and the layer-4 link to the upstream SOC.

    oncall.py        deploy/oncall.yaml: receivers and escalation levels, validated
    alertmanager.py  outbox payload / alert rows -> Alertmanager v2 alerts (pure)
    messages.py      e-mail and Telegram texts in Vietnamese with the English summary (pure)
    transport.py     HTTP POST with urllib, errors translated to NotifyError
    channels.py      alertmanager, webhook, email, telegram senders
    acklinks.py      signed acknowledge links (e-mail) and buttons (Telegram), what they can still do (pure)
    ackoffer.py      the link or button a notification carries, under the ack link key
    ackstore.py      acknowledging from a link or button: single use, audited through the alert store
    telegram_acks.py getUpdates long polling for presses of the acknowledge button
    dispatcher.py    notification_outbox -> channels, with retries (FOR UPDATE SKIP LOCKED)
    soc.py           security findings -> upstream SOC (webhook or Kafka), link health
    testing.py       a local HTTP receiver for tests and the demo
"""
