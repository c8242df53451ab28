"""The web app's security pieces: accounts and roles, login limits, request limits, document
administration. `policyqa.ui` builds the app from them."""
