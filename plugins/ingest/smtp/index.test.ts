// The SMTP source against the shared ingest contract, driven by a real SMTP conversation over TCP.

import { runSmtpIngestContract } from '../../../test/support/smtp-contract.ts'
import { create, name } from './index.ts'

await runSmtpIngestContract(name, create)
