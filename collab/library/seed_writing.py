"""The demo library's articles and research papers."""

from __future__ import annotations

from .seed_entries import article, paper

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
