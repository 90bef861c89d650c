"""The demo library's case studies: what a team did, where, and what it measured."""

from __future__ import annotations

from .seed_entries import case

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
