"""The Twilio voice adapter: signed webhooks in, the core's decisions out as TwiML."""
