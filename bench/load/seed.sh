# Sourced by run.sh, instances.sh and pair.sh after common.sh (needs node, and common.sh's api for the server at $PV):
# seed_customer_support creates the customer-support prompt (the templates of `promptvault demo`), promotes 1.0.0, adds
# two challengers and starts a 50/25/25 experiment; sets CONTROL_ID, CASUAL_ID, STRUCTURED_ID, EXPERIMENT_ID and
# CONTROL_VARIANT_ID (the experiment's control variant).

json_field() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s)[process.argv[1]]))' "$1"; }
json_string() { node -p 'JSON.stringify(process.argv[1])' "$1"; }
# counted_events: how many events the metrics API counts for the seeded prompt's version 1.0.0, all time.
counted_events() { api GET "/api/prompts/customer-support/versions/1.0.0/metrics?period=all" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).summary.count))'; }
# settled_events: counted_events once two readings a second apart agree (the batches in flight have committed).
settled_events() { local counted previous=-1; while counted="$(counted_events)"; [[ "$counted" != "$previous" ]]; do previous="$counted"; sleep 1; done; echo "$counted"; }

CONTROL='You are a helpful customer support agent for {{company_name}}.
{{#if customer_name}}The customer'"'"'s name is {{customer_name}}.{{/if}}
Previous messages:
{{#each previous_messages}}{{role}}: {{content}}
{{/each}}'
CASUAL='Hey! You'"'"'re chatting for {{company_name}} support. Keep it friendly and relaxed, like a helpful friend.
{{#if customer_name}}Say hi to {{customer_name}} by name.{{/if}}
What'"'"'s been said so far:
{{#each previous_messages}}{{role}}: {{content}}
{{/each}}'
STRUCTURED='Role: customer support agent for {{company_name}}.
{{#if customer_name}}Customer: {{customer_name}}.{{/if}}
Answer in three parts: 1. what happened, 2. what we will do, 3. what the customer can do now.
Conversation so far:
{{#each previous_messages}}{{role}}: {{content}}
{{/each}}'

seed_customer_support() {
  echo "Seeding customer-support..." >&2
  api POST /api/prompts '{"name":"customer-support","type":"system","description":"System prompt for the support assistant",
    "content":'"$(json_string "$CONTROL")"',
    "variables":[{"name":"company_name","type":"string","required":true},{"name":"customer_name","type":"string"},{"name":"previous_messages","type":"array"}],
    "metadata":{"model":"gpt-4o-mini","temperature":0.3,"maxTokens":500}}' >/dev/null
  CONTROL_ID="$(api PUT /api/prompts/customer-support/labels/production '{"version":"1.0.0"}' | json_field id)"
  CASUAL_ID="$(api POST /api/prompts/customer-support/versions '{"content":'"$(json_string "$CASUAL")"',"changeDescription":"casual tone"}' | json_field id)"
  STRUCTURED_ID="$(api POST /api/prompts/customer-support/versions '{"content":'"$(json_string "$STRUCTURED")"',"changeDescription":"structured tone"}' | json_field id)"
  EXPERIMENT_ID="$(api POST /api/experiments '{"name":"load","prompt":"customer-support","targetMetric":"conversionRate","variants":[
    {"name":"control","versionId":"'"$CONTROL_ID"'","weight":50},{"name":"casual","versionId":"'"$CASUAL_ID"'","weight":25},
    {"name":"structured","versionId":"'"$STRUCTURED_ID"'","weight":25}]}' | json_field id)"
  api POST "/api/experiments/$EXPERIMENT_ID/start" >/dev/null
  CONTROL_VARIANT_ID="$(api GET "/api/experiments/$EXPERIMENT_ID" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).variants[0].id))')"
}
