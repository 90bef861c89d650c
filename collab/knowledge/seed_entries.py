"""The demo library: articles, case studies and research papers, written for collab.

Places, people and papers are invented (DOIs use the 10.5555 test prefix); the practice they
describe is what public-sector teams report. Most entries are published through the review
workflow by the demo expert; a few stay in the works so the queue and "my drafts" show
something: a draft, one waiting for a reviewer, one with changes requested, and one published
entry with its next revision in review.
"""

from __future__ import annotations

from typing import Any

REVIEWER = "sam.okafor"


def article(author: str, title: str, summary: str, topics: list[str], body: str,
            **extra: Any) -> dict[str, Any]:
    return {"author": author, "data": {"kind": "article", "title": title, "summary": summary,
                                       "topics": topics, "body": body}, **extra}


def case(author: str, title: str, summary: str, topics: list[str], *, jurisdiction: str,
         level: str, year: int, problem: str, actions: str, outcomes: list[tuple[str, Any, str]],
         body: str, lessons: str, contacts: list[str], **extra: Any) -> dict[str, Any]:
    return {"author": author, "data": {
        "kind": "case_study", "title": title, "summary": summary, "topics": topics,
        "jurisdiction": jurisdiction, "level": level, "year": year, "problem": problem,
        "actions": actions, "body": body, "lessons": lessons, "contacts": contacts,
        "outcomes": [{"label": label, "value": value, "unit": unit}
                     for label, value, unit in outcomes]}, **extra}


def paper(author: str, title: str, summary: str, topics: list[str], *, authors: list[str],
          year: int, publisher: str, doi: str, abstract: str, body: str = "",
          **extra: Any) -> dict[str, Any]:
    return {"author": author, "data": {
        "kind": "paper", "title": title, "summary": summary, "topics": topics,
        "authors": authors, "year": year, "publisher": publisher, "doi": doi,
        "abstract": abstract, "body": body}, **extra}


CASE_STUDIES = [
    case(
        "priya.nair",
        "A municipal data-analytics tool that improved resource allocation for street repairs",
        "Northbridge City Council combined complaint, inspection and weather data to decide "
        "where its road crews go each morning, and cleared its pothole backlog in a year.",
        ["data-analytics", "digital-services"],
        jurisdiction="Northbridge City Council", level="municipal", year=2024,
        problem=(
            "Crews were sent where complaints were loudest, not where damage was worst. The "
            "repair backlog had grown to 3,100 defects, and the same streets were patched "
            "again and again while others waited months."),
        actions=(
            "- Joined three data sets that already existed: resident reports, the inspectors' "
            "condition survey and frost days from the weather service.\n"
            "- Built a simple priority score (risk to people × traffic × expected growth of the "
            "defect) with the crews' supervisors, not for them.\n"
            "- Published the morning allocation as a shared map: crews could challenge any "
            "job, and did, which improved the score twice in the first month.\n"
            "- Kept a human decision: supervisors can override, and every override is logged "
            "and reviewed weekly."),
        outcomes=[("Repair backlog", -41, "%"), ("Median time to fix a dangerous defect", 6,
                                                  "days"),
                  ("Crew travel time", -22, "%"), ("Repeat repairs on the same street", -30,
                                                   "%")],
        body=(
            "The analytics team was two people. They started with a spreadsheet and a "
            "weekly meeting with the road crews, and only built the tool once the score had "
            "survived a month of arguments.\n\n"
            "The biggest gain was not the model but the shared map: resource allocation "
            "became visible, so crews stopped driving across the city for low-risk jobs and "
            "residents could see when their street was scheduled. The council now uses the "
            "same approach for drain clearing and streetlight repairs."),
        lessons=(
            "Start from the decision people make every morning, not from the data. Let the "
            "people who do the work break the score. Publish the allocation; transparency "
            "did more for trust than accuracy."),
        contacts=["Head of Highways Analytics, Northbridge City Council"],
        featured=True,
    ),
    case(
        "maria.lopez",
        "A cross-department task force that cut emergency response times",
        "Lakeshore County brought fire, ambulance, police and public works into one task force "
        "and one dispatch floor; median emergency response times fell by more than a third.",
        ["emergency-response", "workforce"],
        jurisdiction="Lakeshore County", level="regional", year=2023,
        problem=(
            "Emergency calls were answered by three control rooms with separate systems. A "
            "call about a traffic collision could be transferred twice before anyone was "
            "dispatched, and response times had risen for four years running."),
        actions=(
            "1. A task force with a senior officer from each service and public works, given "
            "twelve months and one target: the median time from call to arrival.\n"
            "2. Mapped every call transfer for a month; 38% of delay was hand-offs between "
            "departments.\n"
            "3. One shared dispatch floor with a common incident log, and joint protocols for "
            "the ten most common incident types.\n"
            "4. Cross-training: every call handler spent a week in each other service."),
        outcomes=[("Median emergency response time", -38, "%"),
                  ("Calls transferred twice or more", -71, "%"),
                  ("Median time from call to dispatch", 54, "seconds")],
        body=(
            "The task force had no new budget; it had authority. Each department's chief "
            "signed a one-page charter saying that joint protocols agreed by the task force "
            "override departmental procedures.\n\n"
            "The cross-department approach meant the hard conversations happened early: who "
            "owns a call that is both a fire and a crime scene, who closes a road. Writing "
            "those answers down as joint protocols removed most of the transfers."),
        lessons=(
            "Give a cross-department task force one measurable target and the authority to "
            "change procedures. Measure hand-offs, not just response times. Cross-training "
            "built the trust the shared floor needed."),
        contacts=["Emergency Coordination Office, Lakeshore County"],
        featured=True,
    ),
    case(
        "jo.chen",
        "Streamlined procurement: from fourteen-week tenders to five",
        "Harbourside Region rewrote its procurement process around templates, a single "
        "digital workflow and pre-approved frameworks, and the time from request to contract "
        "fell by two thirds.",
        ["procurement", "digital-services"],
        jurisdiction="Harbourside Region", level="regional", year=2024,
        problem=(
            "A routine tender took fourteen weeks on average. Requests passed through five "
            "approval steps on paper, each team wrote its own specifications, and small "
            "suppliers rarely bid because the documents were long and inconsistent."),
        actions=(
            "- Process mapping with buyers and budget holders: seven of the nineteen steps "
            "added nothing and were dropped.\n"
            "- Standard, plain-language templates for the twelve most common purchases.\n"
            "- One digital workflow replacing paper approvals, with a clock visible to everyone.\n"
            "- Pre-approved frameworks for low-risk categories so routine purchases skip the "
            "full tender."),
        outcomes=[("Time from request to contract", -64, "%"),
                  ("Share of contract value won by small businesses", 38, "%"),
                  ("Average bids per tender", 4.6, "bids")],
        body=(
            "Streamlining the procurement process was sold internally as a risk reduction, "
            "not a shortcut: every removed step was checked against the rules by the legal "
            "team before it went.\n\n"
            "Suppliers noticed first. Shorter, consistent documents meant small firms could "
            "bid without a bid writer, and competition rose in every category we measured."),
        lessons=(
            "Map the process with the people who suffer it. Templates did more than software. "
            "Publish the clock: a visible average time is the best argument for removing a step."),
        contacts=["Procurement Improvement Lead, Harbourside Region"],
        featured=True,
    ),
    case(
        "maria.lopez",
        "Participatory budgeting in three neighbourhoods",
        "Westfield let residents of three neighbourhoods decide how to spend 1.2 million of "
        "the capital budget; turnout beat local elections in two of them.",
        ["citizen-engagement", "finance"],
        jurisdiction="City of Westfield", level="municipal", year=2022,
        problem=(
            "Trust in the council's spending decisions was low, and small capital projects "
            "(play areas, crossings, lighting) were chosen by officers with little input."),
        actions=(
            "Residents proposed projects online and at libraries; officers costed them; "
            "residents voted in person and online over three weeks. Ballots were available in "
            "five languages and schools ran their own votes for under-16s."),
        outcomes=[("Residents who voted", 11400, "people"), ("Projects funded", 23, "projects"),
                  ("Turnout compared with local elections", 1.3, "x")],
        body=(
            "Participatory budgeting worked best where community groups ran the outreach. "
            "The council paid them for it, which was the single best decision of the project."),
        lessons=(
            "Budget for outreach, not just for projects. Cost proposals honestly and early. "
            "Report back on delivery, or the second round will not happen."),
        contacts=["Community Engagement Team, City of Westfield"],
    ),
    case(
        "jo.chen",
        "Benefits applications online, with assisted digital support in every library",
        "The national benefits agency moved its main application online and trained library "
        "staff to help people who cannot or will not apply alone.",
        ["digital-services", "citizen-engagement"],
        jurisdiction="National Benefits Agency", level="national", year=2023,
        problem=(
            "A 24-page paper form took weeks to process; one in three was returned incomplete."),
        actions=(
            "A new online service designed with claimants, tested every two weeks; 400 "
            "libraries offered assisted digital support with trained staff; the paper route "
            "stayed for those who need it."),
        outcomes=[("Applications completed online", 81, "%"), ("Incomplete applications", -74, "%"),
                  ("Median processing time", 9, "days")],
        body=(
            "The team measured completion, drop-off per page and calls to the helpline. "
            "Helpline calls about the form told them most: each spike pointed to a question "
            "people did not understand."),
        lessons=(
            "Keep an assisted route and fund it properly. Test with people who struggle, not "
            "only with confident users."),
        contacts=["Service Owner, Applications, National Benefits Agency"],
    ),
    case(
        "priya.nair",
        "Flood warning messages that residents act on",
        "After the spring floods, Valley River Authority tested warning texts with residents; "
        "short, specific messages naming the street doubled the share who moved belongings.",
        ["emergency-response", "citizen-engagement"],
        jurisdiction="Valley River Authority", level="regional", year=2023,
        problem=(
            "Generic flood alerts were ignored: only a quarter of residents in flooded streets "
            "had acted on the warning."),
        actions=(
            "Ran tests of twelve message variants with 900 residents; rewrote alerts in plain "
            "language with the street name, the expected time and one action; translated and "
            "tested them in the three most common community languages."),
        outcomes=[("Residents who acted on a warning", 52, "%"),
                  ("Calls asking what the warning meant", -60, "%")],
        body=(
            "Short, specific and local beat everything else. Naming the street made people "
            "believe the warning was about them."),
        lessons=(
            "Test warning messages before the emergency. Translations need testing with "
            "native speakers, not only checking."),
        contacts=["Flood Warning Service, Valley River Authority"],
    ),
    case(
        "jo.chen",
        "A shared apprenticeship scheme across five councils",
        "Five neighbouring councils pooled their apprenticeship levy and recruitment into one "
        "scheme for digital, finance and engineering apprentices.",
        ["workforce"],
        jurisdiction="Eastern Valleys councils", level="regional", year=2022,
        problem=(
            "Each council was too small to run apprenticeships in specialist trades, and "
            "unspent apprenticeship levy was being lost every year."),
        actions=(
            "One recruitment campaign, rotating placements across the five councils, a shared "
            "training provider and one coordinator funded by all five."),
        outcomes=[("Apprentices recruited", 64, "people"),
                  ("Apprentices still employed after two years", 78, "%"),
                  ("Unspent levy", -90, "%")],
        body=(
            "Rotating placements gave apprentices a wider view of local government than any "
            "single council could, and the councils shared the cost of supervision."),
        lessons=(
            "Agree the money first, in writing. A shared coordinator is essential; without one "
            "the scheme drifts."),
        contacts=["Shared Apprenticeship Coordinator, Eastern Valleys"],
    ),
    case(
        "maria.lopez",
        "Open contracting data for every purchase over 10,000",
        "The Ministry of Finance published structured data on every contract over 10,000, from "
        "planning to payment, and used it to find weak competition.",
        ["procurement", "data-analytics"],
        jurisdiction="Ministry of Finance", level="national", year=2021,
        problem=(
            "Nobody could say how many contracts had a single bidder, or how long payments took."),
        actions=(
            "Adopted the Open Contracting Data Standard, linked the procurement and payment "
            "systems, and published the data weekly with a simple dashboard."),
        outcomes=[("Contracts with a single bidder", -27, "%"), ("Median days to pay a supplier",
                                                                 21, "days")],
        body=(
            "Publishing the data created pressure from journalists and suppliers that internal "
            "reports never had. Single-bidder contracts fell once buyers knew they were visible."),
        lessons="Link procurement data to payments; the interesting questions need both.",
        contacts=["Open Contracting Team, Ministry of Finance"],
    ),
    case(
        "priya.nair",
        "A heat-vulnerability map that guided where cooling centres open",
        "Southport combined census, health and land-surface temperature data into a heat "
        "vulnerability map and opened cooling centres where it pointed.",
        ["climate", "data-analytics", "emergency-response"],
        jurisdiction="Southport Metropolitan Council", level="municipal", year=2024,
        problem=(
            "Cooling centres opened in council buildings, far from the older residents most at "
            "risk in heatwaves."),
        actions=(
            "Mapped heat vulnerability block by block (age, living alone, health conditions, "
            "surface temperature, tree cover); opened pop-up cooling centres in libraries, "
            "churches and shops in the ten most vulnerable areas; outreach by phone to "
            "residents registered as living alone."),
        outcomes=[("Visits to cooling centres", 3.2, "x"), ("Heat-related ambulance calls",
                                                            -18, "%")],
        body=(
            "The map was cheap to make and persuasive: it moved cooling centres to where the "
            "people were, and it now guides tree planting too."),
        lessons="Put services where the risk is, not where the buildings are.",
        contacts=["Climate Resilience Officer, Southport Metropolitan Council"],
    ),
    case(
        "admin",
        "Zero-based budgeting for a parks service",
        "Greenhill rebuilt its parks budget from zero, tying every line to an outcome, and "
        "freed money for maintenance that residents had asked for.",
        ["finance"],
        jurisdiction="Greenhill District Council", level="municipal", year=2021,
        problem=(
            "The parks budget had grown by inflation for a decade with no review of what it "
            "bought."),
        actions=(
            "Every activity was costed and linked to an outcome residents value (safety, "
            "cleanliness, play, nature); low-value activities were stopped or contracted "
            "differently."),
        outcomes=[("Budget moved to frontline maintenance", 14, "%"),
                  ("Resident satisfaction with parks", 12, "points")],
        body=(
            "The exercise took a full budget cycle and needed the finance team in the room every "
            "week."),
        lessons="Zero-based budgeting is expensive; use it where spending has drifted the most.",
        contacts=["Finance Business Partner, Greenhill District Council"],
    ),
    case(
        "jo.chen",
        "Moving a council's vehicle fleet to electric",
        "Riverside moved 60% of its fleet to electric vehicles in four years by buying through "
        "a regional framework and planning charging with the depots.",
        ["climate", "procurement"],
        jurisdiction="Riverside Borough Council", level="municipal", year=2024,
        problem="The fleet was the council's largest source of direct emissions.",
        actions=(
            "Replaced vehicles at the end of their life rather than early; bought through a "
            "regional framework for better prices; installed depot charging before the "
            "vehicles arrived; trained drivers on range and charging."),
        outcomes=[("Fleet running on electricity", 60, "%"), ("Fleet fuel and maintenance cost",
                                                                -23, "%"),
                  ("Direct emissions from the fleet", -48, "%")],
        body=(
            "Charging, not vehicles, was the hard part: depots needed grid upgrades that took a "
            "year."),
        lessons=("Order the grid connection first. Drivers' confidence grows fast with good "
                 "training."),
        contacts=["Fleet Manager, Riverside Borough Council"],
    ),
    case(
        "priya.nair",
        "Shared logistics data for cross-border disaster relief",
        "Four neighbouring countries agreed one data format for relief supplies, so convoys and "
        "warehouses could be coordinated across borders during floods.",
        ["emergency-response", "data-analytics"],
        jurisdiction="Danube Basin relief partners", level="international", year=2023,
        problem="Relief convoys duplicated deliveries while other areas waited, because each "
                "country tracked stock differently.",
        actions=(
            "A common data format for stock and convoys, a shared dashboard, and joint "
            "exercises every year to keep it working."),
        outcomes=[("Duplicate deliveries", -55, "%"), ("Time to match supplies to requests", -40,
                                                       "%")],
        body=(
            "The exercises mattered more than the technology: people knew each other before the "
            "flood."),
        lessons="Agree data formats in quiet times; practise using them.",
        contacts=["Regional Relief Coordination Cell"],
    ),
]

ARTICLES = [
    article(
        "maria.lopez", "Writing an outcome-based statement of requirements",
        "How to describe what a contract must achieve rather than how, so suppliers can "
        "propose better solutions and you can measure success.",
        ["procurement"],
        "An outcome-based statement of requirements describes the problem in users' words, the "
        "outcomes you will measure and the constraints that matter, and leaves the solution to "
        "suppliers.\n\n"
        "## A template\n\n1. The problem, in users' words\n2. Outcomes and how we will measure "
        "them (with baselines)\n3. Constraints: accessibility, security, data residency\n"
        "4. What we already know does not work\n\n"
        "Set baselines before the tender: without them, nobody can tell at the end whether the "
        "outcome was met. Keep the requirements short enough that a small supplier can read "
        "them in one sitting."),
    article(
        "jo.chen", "Five measures to watch in the first month of a new digital service",
        "Completion rate is not enough. What to measure when a paper form moves online.",
        ["digital-services", "data-analytics"],
        "When a service goes live, watch:\n\n1. **Completion rate** (started vs finished)\n"
        "2. **Drop-off per page**: where people give up\n3. **Time to complete**\n"
        "4. **Calls to the helpline about the service**: the best signal of confusion\n"
        "5. **Assisted digital use**: who needs help, and why\n\n"
        "Review them weekly with the whole team, and fix the worst page first.",
        revision={"body": (
            "When a service goes live, watch:\n\n1. **Completion rate** (started vs finished)\n"
            "2. **Drop-off per page**: where people give up\n3. **Time to complete**\n"
            "4. **Calls to the helpline about the service**: the best signal of confusion\n"
            "5. **Assisted digital use**: who needs help, and why\n"
            "6. **Complaints and appeals**: errors the service makes\n\n"
            "Review them weekly with the whole team, and fix the worst page first. Publish the "
            "measures: a performance page keeps everyone honest."),
            "title": "Six measures to watch in the first month of a new digital service"},
    ),
    article(
        "priya.nair", "A practical guide to data-sharing agreements between departments",
        "What a data-sharing agreement needs to say, who signs it, and how to get one agreed "
        "in weeks rather than months.",
        ["data-analytics"],
        "Most data-sharing agreements stall on questions nobody wrote down. Answer these "
        "first: the purpose, the legal basis, the fields needed (and only those), retention, "
        "security, who can see what, and how the sharing ends.\n\n"
        "Use a standard template, name a data owner on each side, and agree a review date. "
        "Agreements that share less data are agreed faster."),
    article(
        "maria.lopez",
        "Running an after-action review that changes something",
        "After an emergency, a short structured review within two weeks beats a long report "
        "months later.",
        ["emergency-response"],
        "Ask four questions: what did we expect to happen, what actually happened, why was "
        "there a difference, and what will we do differently? Hold the review within two "
        "weeks, include the people who were on the ground, and assign every action an owner "
        "and a date. Track the actions in public."),
    article(
        "jo.chen", "Designing consultations people actually answer",
        "Short questions, plain language and going where people are: how to raise response "
        "rates and hear from more than the usual voices.",
        ["citizen-engagement"],
        "Long consultation documents get answers from organised interests. To hear from "
        "residents: ask fewer questions, explain the decision being made, offer several ways "
        "to respond (online, paper, in person) and go to libraries, markets and schools. "
        "Report back what changed because of the answers."),
    article(
        "maria.lopez", "Hiring digital specialists on public-sector pay scales",
        "You may not match private salaries, but you can compete on purpose, flexibility and "
        "learning.",
        ["workforce", "digital-services"],
        "Write job adverts about the problems people will solve, not the grade. Use skills-"
        "based assessment instead of long application forms, move fast (offer within three "
        "weeks), offer flexible working and a learning budget, and use market supplements "
        "where your pay framework allows."),
    article(
        "priya.nair", "Multi-year budgets for digital services: making the case",
        "Annual project funding kills services after launch. How finance teams and service "
        "owners can agree on funding for running and improving services.",
        ["finance", "digital-services"],
        "Services need funding for as long as they run, not for a project. Show finance the "
        "cost of running and improving the service, the cost of not improving it (calls, "
        "errors, failure demand) and the measures you will report. Ask for a multi-year "
        "envelope with a yearly review."),
    article(
        "jo.chen", "Stopping accessibility regressions in digital services",
        "Missing form labels, focus order in modals and low contrast come back in every audit. "
        "How to stop them returning.",
        ["digital-services"],
        "Automated checks catch about a third of accessibility issues: run them on every "
        "change anyway. Add manual checks to the definition of done (keyboard only, screen "
        "reader smoke test, zoom to 400%), keep a component library that is accessible by "
        "default, and test with disabled users every quarter."),
    article(
        "maria.lopez", "Small lots, more bidders: splitting contracts for small businesses",
        "Splitting a large contract into lots can widen competition; it also adds "
        "coordination costs. When it is worth it.",
        ["procurement"],
        "Lots help when the work has natural seams (discovery, build, hosting, support) and "
        "when small suppliers are strong in some of them. Budget about 10% more contract-"
        "management effort, make lots share one backlog, and agree how suppliers will work "
        "together before the contracts are signed."),
    article(
        "priya.nair", "Dashboards that get used: lessons from performance reporting",
        "Most performance dashboards are opened once. Design them around a decision and a "
        "meeting, not around the data you have.",
        ["data-analytics"],
        "For each dashboard, name the meeting where it is used and the decision it informs. "
        "Show few measures, with targets and trends, explain how each is calculated, and "
        "retire measures nobody asks about."),
    article(
        "jo.chen", "Climate risk registers for local government",
        "How to build a climate risk register that informs budgets and plans: heat, flooding, "
        "drought and storms, service by service.",
        ["climate", "emergency-response"],
        "List the climate hazards for your area, then ask each service how it would be "
        "affected and what it would cost. Score likelihood and impact, assign an owner to each "
        "risk, and link the register to the capital programme so adaptation is funded.",
        stage="submitted"),
    article(
        "priya.nair", "Mentoring programmes for new public managers",
        "Pairing new managers with experienced ones from other departments: how to set it up "
        "and what it costs.",
        ["workforce"],
        "Match across departments, ask for an hour a month for a year, give mentors short "
        "training, and check in at three months. The cost is mostly time; the benefit shows in "
        "retention of new managers.",
        stage="changes_requested",
        comment=(
            "Good start. Please add what the retention figures were and how matching was done.")),
    article(
        "jo.chen", "Plain-language emergency alerts: a checklist",
        "Before you send an emergency alert: who is affected, what should they do, by when, "
        "and where to find more.",
        ["emergency-response", "citizen-engagement"],
        "Say what is happening, where (street names), what to do now, and when the next update "
        "comes. Avoid jargon and abbreviations. Test messages in advance, translated.",
        stage="draft"),
    article(
        "admin", "Value for money in grant programmes",
        "Grants are easy to give and hard to evaluate. Build evaluation into the programme "
        "from the first day.",
        ["finance", "citizen-engagement"],
        "Define outcomes before the first grant is awarded, ask grantees for a few consistent "
        "measures, fund an independent evaluation from the programme budget, and publish what "
        "was learned, including what did not work."),
]

PAPERS = [
    paper(
        "priya.nair", "Predictive analytics in municipal service allocation: a systematic review",
        "A review of 64 studies of data-driven allocation of municipal services: what improved "
        "outcomes, and where models reproduced existing inequalities.",
        ["data-analytics"],
        authors=["A. Moreno", "L. Fischer", "K. Osei"], year=2023,
        publisher="Journal of Public Sector Analytics", doi="10.5555/collab-demo.2023.0412",
        abstract=(
            "We review 64 evaluations of predictive analytics used to allocate municipal "
            "services (inspections, repairs, social work visits). Most report efficiency gains "
            "of 10–40%. Gains were largest where front-line staff shaped the model and could "
            "override it. A third of studies found allocation drifted towards areas with more "
            "complaints, reproducing inequalities; few measured this.")),
    paper(
        "maria.lopez", "Interagency coordination and emergency response times",
        "Evidence from 120 counties that joint dispatch and shared protocols shorten response "
        "times more than extra vehicles.",
        ["emergency-response"],
        authors=["J. Whitaker", "M. Adeyemi"], year=2022,
        publisher="Emergency Management Review", doi="10.5555/collab-demo.2022.0077",
        abstract=(
            "Using call records from 120 counties over eight years, we estimate the effect of "
            "interagency coordination (joint dispatch, shared protocols, task forces) on "
            "response times. Coordination reforms reduced median response times by 18–35%; "
            "adding vehicles without coordination had a smaller effect.")),
    paper(
        "jo.chen", "The effects of e-procurement on competition and prices",
        "Moving tenders online increased the number of bidders and lowered prices, especially "
        "for small contracts.",
        ["procurement", "digital-services"],
        authors=["S. Lindqvist", "P. Rao", "E. Dubois"], year=2021,
        publisher="Public Finance Quarterly", doi="10.5555/collab-demo.2021.1133",
        abstract=(
            "We study the staggered introduction of e-procurement across 300 public bodies. "
            "Electronic tendering raised the average number of bids by 0.8 and lowered prices "
            "by 3–6%, with the largest effects for small contracts and new suppliers.")),
    paper(
        "maria.lopez", "Participation and trust: evidence from participatory budgeting",
        "Residents who took part in participatory budgeting trusted their council more a year "
        "later, and so did their neighbours.",
        ["citizen-engagement", "finance"],
        authors=["R. Costa", "H. Nakamura"], year=2020,
        publisher="Local Government Studies Annual", doi="10.5555/collab-demo.2020.0309",
        abstract=(
            "Surveying 4,000 residents in cities with and without participatory budgeting, we "
            "find higher trust in local government among participants and, to a lesser "
            "degree, among non-participating neighbours. Effects faded where funded projects "
            "were not delivered.")),
    paper(
        "priya.nair", "Digital skills gaps in the public sector workforce",
        "A survey of 9,000 public servants on digital, data and technology skills, and what "
        "training closed the gaps.",
        ["workforce", "digital-services"],
        authors=["T. Brennan", "A. Kowalski", "N. Haddad"], year=2024,
        publisher="Institute for Government Capability", doi="10.5555/collab-demo.2024.0058",
        abstract=(
            "We surveyed 9,000 public servants across 40 organisations. Data skills showed the "
            "largest gaps; short courses changed little, while learning on real projects with "
            "coaching closed gaps within a year.")),
    paper(
        "jo.chen", "Urban heat and vulnerable populations: targeting interventions",
        "Which residents are most at risk in heatwaves, and which interventions (cooling "
        "centres, outreach, trees) reduce harm.",
        ["climate", "emergency-response"],
        authors=["C. Alvarez", "D. Mensah"], year=2023,
        publisher="Urban Climate and Health", doi="10.5555/collab-demo.2023.0871",
        abstract=(
            "Combining mortality, census and temperature data from 30 cities, we identify age, "
            "isolation and surface temperature as the strongest predictors of heat harm, and "
            "find that outreach to isolated residents reduced harm more than cooling centres "
            "alone.")),
    paper(
        "priya.nair", "Measuring user satisfaction with government digital services",
        "Why single satisfaction scores mislead, and a short set of measures that predict "
        "whether people complete a service.",
        ["digital-services", "data-analytics"],
        authors=["M. Okonkwo", "S. Virtanen"], year=2022,
        publisher="Digital Government Research", doi="10.5555/collab-demo.2022.0640",
        abstract=(
            "Satisfaction scores collected at the end of a service miss those who gave up. "
            "Across 25 services, completion rate, repeat contact and time to complete "
            "predicted outcomes better than satisfaction.")),
    paper(
        "admin", "Outcome-based budgeting: a comparative study",
        "How eight governments linked budgets to outcomes, and where it changed spending.",
        ["finance"],
        authors=["G. Petrov", "L. Mbeki", "F. O'Neill"], year=2019,
        publisher="Comparative Public Budgeting", doi="10.5555/collab-demo.2019.0021",
        abstract=(
            "We compare outcome-based budgeting in eight national and regional governments. "
            "Reforms changed spending only where outcomes were few, measured consistently and "
            "discussed when budgets were set; elsewhere they added reporting without "
            "reallocation.")),
    paper(
        "maria.lopez", "Fairness audits of algorithms used to target public services",
        "A method for auditing allocation algorithms for unequal treatment, tested on three "
        "municipal models.",
        ["data-analytics", "citizen-engagement"],
        authors=["I. Sato", "B. Harrington"], year=2024,
        publisher="Algorithmic Governance", doi="10.5555/collab-demo.2024.0203",
        abstract=(
            "We propose a fairness audit for algorithms that allocate public services and "
            "apply it to three municipal models. Two showed unequal allocation by "
            "neighbourhood income that disappeared when complaint counts were removed as an "
            "input.")),
]

ENTRIES: list[dict[str, Any]] = [*CASE_STUDIES, *ARTICLES, *PAPERS]
