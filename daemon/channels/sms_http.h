/*
 * sms_http.h: the SMS gateways' endpoints (daemon/channels/sms_http.c, docs/sms.md):
 * GET or POST /sms/kannel (a Kannel sms-service get-url), POST /sms/twilio
 * (Twilio's inbound webhook, TwiML replies) and POST /sms/external (a
 * RapidPro-style external channel). Each replies with the one reply SMS.
 */
#ifndef SIPAS_SMS_HTTP_H
#define SIPAS_SMS_HTTP_H

struct request;

void sms_kannel_handle(struct request *);
void sms_twilio_handle(struct request *);
void sms_external_handle(struct request *);

#endif
